"""A real nginx for the tests: a private config in a temp dir, ``daemon off``, stopped by pid.

The config is built around the snippets in docs/nginx/, with only their ports replaced, so
the tests prove the documented settings work.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import REPO_ROOT, free_port, stop_process

DOCS = REPO_ROOT / "docs" / "nginx"
STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")


#: The upstream address of the documented snippets, replaced by the test's sockd.
DOCUMENTED_UPSTREAM = "127.0.0.1:7001"
DOCUMENTED_UNIX_UPSTREAM = "unix:/run/sockd-app/app.sock"


def _snippet(name: str, listen: int, upstream: int | Path) -> str:
    """The snippet with the test's ports: ``upstream`` is sockd's port, or its Unix socket."""
    text = (DOCS / name).read_text()
    if isinstance(upstream, Path):
        documented, actual = DOCUMENTED_UNIX_UPSTREAM, f"unix:{upstream}"
    else:
        documented, actual = DOCUMENTED_UPSTREAM, f"127.0.0.1:{upstream}"
    assert "listen 80;" in text and documented in text, f"docs/nginx/{name} changed shape"
    return text.replace("listen 80;", f"listen 127.0.0.1:{listen};").replace(documented, actual)


def _config(workdir: Path, snippet: str, mode: str, listen: int, upstream: int | Path) -> str:
    common = (
        f"pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\n"
        "daemon off;\nworker_processes 1;\nworker_rlimit_nofile 8192;\n"
    )
    if isinstance(upstream, Path) and os.geteuid() == 0:
        # Started as root, nginx runs its workers as nobody, who may not connect to a 0660
        # socket in the test's private directory.
        common += "user root;\n"
    body = _snippet(snippet, listen, upstream)
    if mode == "stream":
        if not STREAM_MODULE.exists():
            pytest.fail(
                "nginx's stream module is missing: apt-get install -y libnginx-mod-stream",
                pytrace=False,
            )
        return (
            f"load_module {STREAM_MODULE};\n{common}events {{ worker_connections 4096; }}\n{body}\n"
        )
    temp = "".join(
        f"{kind}_temp_path {workdir}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    events = "events { worker_connections 4096; }\n"
    return f"{common}{events}http {{\naccess_log off;\n{temp}{body}\n}}\n"


@contextlib.contextmanager
def running_nginx(workdir: Path, snippet: str, mode: str, upstream: int | Path) -> Iterator[int]:
    """nginx serving ``docs/nginx/<snippet>`` towards ``upstream`` (a port, or the path of
    a Unix socket); yields its port."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed: apt-get install -y nginx", pytrace=False)
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(_config(workdir, snippet, mode, port, upstream))
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(workdir), "-e", str(workdir / "error.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10.0
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (workdir / "error.log").read_text(errors="replace")
                pytest.fail(f"nginx did not start (exit {proc.poll()}):\n{log}", pytrace=False)
            time.sleep(0.05)
        yield port
    finally:
        stop_process(proc)
