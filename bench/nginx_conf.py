"""The nginx baseline's private configuration: python-socketio's documented deployment.

python-socketio's docs put nginx with ``ip_hash`` in front of N single-worker servers
(``upstream socketio_nodes``, ``proxy_http_version 1.1``, ``proxy_buffering off``, the
Upgrade headers). Added here so the baseline is not a straw man: upstream keep-alive with
the usual ``$connection_upgrade`` map (polling requests reuse upstream connections), enough
worker connections for the idle scenario, no access log (the Python servers log no access
either), ``worker_processes auto`` as Debian's packaged config has. Everything nginx writes
stays in the run's temp dir (which must be traversable by nginx's unprivileged workers
when the benchmark runs as root).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

TEMPLATE = """\
daemon off;
master_process on;
worker_processes auto;
worker_rlimit_nofile 65536;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{
    worker_connections 16384;
}}

http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    upstream socketio_nodes {{
        ip_hash;
{servers}
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{port} backlog=2048;

        location /socket.io {{
            proxy_http_version 1.1;
            proxy_buffering off;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_pass http://socketio_nodes/socket.io;
        }}
    }}
}}
"""


def render(tmp: Path, port: int, upstream_ports: Sequence[int]) -> str:
    """The config text: listen on 127.0.0.1:``port``, balance over ``upstream_ports``."""
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    return TEMPLATE.format(tmp=tmp, port=port, servers=servers)
