"""A real HAProxy in the balancer namespace, running docs/haproxy/haproxy.cfg as it is.

The documented file is loaded unchanged after a test-only ``global`` section (``haproxy -f
GLOBAL -f docs/haproxy/haproxy.cfg``): a stats socket to read the servers' health from, and
nothing else. So the tested config is the documented one and cannot drift. HAProxy runs in
the foreground (``-db``) with its pid file and socket in a temp dir, and is stopped by pid.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.e2e.multihost.netns import exec_prefix
from tests.e2e.multihost.network import HEALTH_PORT, SOCKD_PORT
from tests.harness import REPO_ROOT, stop_process, wait_until_sync

DOC_CONFIG = REPO_ROOT / "docs" / "haproxy" / "haproxy.cfg"
BACKEND = "sockd"
FRONTEND_PORT = 80
#: The marked-down action whose effect the partition test measures.
SHUTDOWN_SESSIONS = " on-marked-down shutdown-sessions"


def config_variant(
    port: int,
    *,
    servers: Sequence[str] | None = None,
    sockd_port: int = SOCKD_PORT,
    health_port: int = HEALTH_PORT,
    shutdown_sessions: bool = True,
) -> str:
    """The documented config on frontend ``port``, for a second set of hosts: only the
    ``servers`` named (all by default), their sockd on ``sockd_port`` and ``/health`` on
    ``health_port``, with or without ``on-marked-down shutdown-sessions``."""
    text = DOC_CONFIG.read_text()
    check = f"check port {HEALTH_PORT} "
    assert SHUTDOWN_SESSIONS in text and f"bind :{FRONTEND_PORT}\n" in text, "config changed shape"
    assert check in text, "config changed shape"
    text = text.replace(f"bind :{FRONTEND_PORT}\n", f"bind :{port}\n")
    text = text.replace(check, f"check port {health_port} ")
    if not shutdown_sessions:
        text = text.replace(SHUTDOWN_SESSIONS, "")
    lines = []
    for line in text.splitlines(keepends=True):
        words = line.split()
        if words[:1] == ["server"]:
            assert words[2].endswith(f":{SOCKD_PORT}"), f"config changed shape: {line!r}"
            if servers is not None and words[1] not in servers:
                continue
            line = line.replace(f":{SOCKD_PORT}", f":{sockd_port}")
        lines.append(line)
    return "".join(lines)


def config_without_shutdown_sessions(port: int) -> str:
    """The documented config without ``on-marked-down shutdown-sessions``, on ``port``."""
    return config_variant(port, shutdown_sessions=False)


class Haproxy:
    """One HAProxy process and its stats socket."""

    def __init__(self, workdir: Path, proc: subprocess.Popen[bytes], port: int) -> None:
        self.workdir = workdir
        self.proc = proc
        self.port = port
        self.stats_path = workdir / "stats.sock"

    def log(self) -> str:
        return (self.workdir / "haproxy.log").read_text(errors="replace")

    def command(self, line: str) -> str:
        """One command on the stats socket (a Unix socket: reachable from any namespace)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_path))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self) -> dict[str, str]:
        """server name -> health status (``UP``, ``DOWN``, ``UP 1/2`` ...) in the backend."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            row["svname"]: row["status"]
            for row in rows
            if row["pxname"] == BACKEND and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def answers(self) -> bool:
        with contextlib.suppress(OSError):
            return bool(self.server_states())
        return False

    def wait_states(self, want: dict[str, str], timeout: float) -> None:
        """Block until each named server has the given status (``UP`` or ``DOWN``)."""

        def reached() -> bool:
            states = self.server_states()
            return all(states.get(name) == status for name, status in want.items())

        try:
            wait_until_sync(reached, timeout, f"HAProxy to see {want}", interval=0.1)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {self.server_states()}\n{self.log()[-3000:]}") from None


@contextlib.contextmanager
def running_haproxy(
    namespace: str, workdir: Path, config: str | None = None, port: int = FRONTEND_PORT
) -> Iterator[Haproxy]:
    """HAProxy in ``namespace`` on the documented config (or ``config``); stopped by pid."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        pytest.fail("haproxy is not installed: apt-get install -y haproxy", pytrace=False)
    workdir.mkdir(parents=True, exist_ok=True)
    stats = workdir / "stats.sock"
    (workdir / "global.cfg").write_text(f"global\n    stats socket {stats} mode 600 level admin\n")
    main = DOC_CONFIG
    if config is not None:
        main = workdir / "haproxy.cfg"
        main.write_text(config)
    command = [
        *exec_prefix(namespace), binary, "-db", "-f", str(workdir / "global.cfg"),
        "-f", str(main), "-p", str(workdir / "haproxy.pid"),
    ]  # fmt: skip
    with open(workdir / "haproxy.log", "wb") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    haproxy = Haproxy(workdir, proc, port)
    try:
        deadline = time.monotonic() + 10
        while not haproxy.answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"HAProxy did not start (exit {proc.poll()}):\n{haproxy.log()}")
            time.sleep(0.05)
        yield haproxy
    finally:
        stop_process(proc)
