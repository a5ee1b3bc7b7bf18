"""nginx in the balancer namespace, serving docs/nginx/multi-host.conf.

The documented file is used as it is except for its port (HAProxy holds port 80 in the
same namespace): a private nginx.conf loads the stream module and includes the adjusted
copy; nginx runs in the foreground with its pid file and logs in a temp dir, stopped by pid.
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

from tests.e2e.multihost.netns import call_in, exec_prefix
from tests.e2e.multihost.network import BALANCER, Network
from tests.e2e.nginx import STREAM_MODULE
from tests.harness import REPO_ROOT, stop_process

DOC_CONFIG = REPO_ROOT / "docs" / "nginx" / "multi-host.conf"


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((BALANCER, port), 0.5):
        return True
    return False


@contextlib.contextmanager
def running_nginx(net: Network, workdir: Path, port: int) -> Iterator[None]:
    """nginx on ``port`` in the balancer namespace, on the documented stream config."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists() or not STREAM_MODULE.exists():
        pytest.fail("nginx with its stream module is needed: apt-get install -y nginx "
                    "libnginx-mod-stream", pytrace=False)  # fmt: skip
    text = DOC_CONFIG.read_text()
    assert "listen 80;" in text, "docs/nginx/multi-host.conf changed shape"
    (workdir / "stream.conf").write_text(text.replace("listen 80;", f"listen {port};"))
    (workdir / "nginx.conf").write_text(
        f"load_module {STREAM_MODULE};\npid {workdir}/nginx.pid;\n"
        f"error_log {workdir}/error.log warn;\ndaemon off;\nworker_processes 1;\n"
        f"events {{ worker_connections 4096; }}\ninclude {workdir}/stream.conf;\n"
    )
    command = [*exec_prefix(net.ns("lb")), binary, "-c", str(workdir / "nginx.conf"),
               "-p", str(workdir), "-e", str(workdir / "error.log")]  # fmt: skip
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 10
        while not call_in(net.ns("client"), _listening, port, timeout=5):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (workdir / "error.log").read_text(errors="replace")
                pytest.fail(f"nginx did not start (exit {proc.poll()}):\n{log}", pytrace=False)
            time.sleep(0.05)
        yield
    finally:
        stop_process(proc)
