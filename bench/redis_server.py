"""A private redis-server per measurement: a free loopback port, no persistence."""

from __future__ import annotations

import socket
from pathlib import Path

import psutil

from bench.procs import ProcessGroup, free_port, wait_for

START_TIMEOUT = 30.0


def start_redis(group: ProcessGroup, tmp: Path) -> tuple[str, psutil.Process]:
    """Start redis-server in ``group`` (stopped with it); return (url, process)."""
    port = free_port()
    log = tmp / "redis.log"
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(tmp), "--daemonize", "no",
    ]  # fmt: skip
    process = group.spawn(command, log)
    wait_for(lambda: _answers(port), "redis-server", START_TIMEOUT, process, log)
    return f"redis://127.0.0.1:{port}/0", psutil.Process(process.pid)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
