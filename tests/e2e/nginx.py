"""A real nginx for the tests: a private config in a temp dir, ``daemon off``, stopped by pid.

The config is built around the snippets in docs/nginx/, with only their ports replaced, so
the tests prove the documented settings work.
"""

from __future__ import annotations

import contextlib
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


def _snippet(name: str, listen: int, upstream: int) -> str:
    text = (DOCS / name).read_text()
    assert "listen 80;" in text and "127.0.0.1:7001" in text, f"docs/nginx/{name} changed shape"
    return text.replace("listen 80;", f"listen 127.0.0.1:{listen};").replace(
        "127.0.0.1:7001", f"127.0.0.1:{upstream}"
    )


def _config(workdir: Path, snippet: str, mode: str, listen: int, upstream: int) -> str:
    common = (
        f"pid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\n"
        "daemon off;\nworker_processes 1;\nworker_rlimit_nofile 8192;\n"
    )
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
def running_nginx(workdir: Path, snippet: str, mode: str, upstream: int) -> Iterator[int]:
    """nginx serving ``docs/nginx/<snippet>`` towards ``upstream``; yields its port."""
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
