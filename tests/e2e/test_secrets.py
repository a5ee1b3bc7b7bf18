"""Secrets stay off every command line: workers get their options over their control
channel, and the master renames itself before its workers start.

``/proc/PID/cmdline`` is readable by every user of the host; ``/proc/PID/environ`` only by
the process's own user and root, and it holds what the user set, inherited (README,
"Settings").
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import redis
import socketio

from tests.harness import REPO_ROOT, SockdLauncher

EGGAPP = REPO_ROOT / "tests" / "apps" / "eggapp"
SESSION_SECRET = "session-secret-7c1f0e"
REDIS_PASSWORD = "redis-password-3b9e55"


def read_proc(pid: int, name: str) -> list[bytes]:
    return Path(f"/proc/{pid}/{name}").read_bytes().split(b"\0")


@pytest.mark.timeout(90)
def test_no_secret_on_any_command_line(
    tmp_path: Path,
    sockd: SockdLauncher,
    private_redis: tuple[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = tmp_path / "eggapp"
    shutil.copytree(EGGAPP, app, ignore=shutil.ignore_patterns("__pycache__"))
    config = app / "config" / "config.default.toml"
    config.write_text(config.read_text().replace('secret = "eggapp-test-secret"', ""))
    url, _ = private_redis
    admin = redis.Redis.from_url(url)
    admin.config_set("requirepass", REDIS_PASSWORD)
    port = url.rsplit(":", 1)[1].split("/")[0]
    monkeypatch.setenv("SOCKD_SESSION_SECRET", SESSION_SECRET)  # the user's variable

    server = sockd(app=str(app), workers=2, redis=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0")

    workers = server.worker_pids()
    assert len(workers) == 2
    for pid in [server.pid, *workers]:
        cmdline = b" ".join(read_proc(pid, "cmdline"))
        assert SESSION_SECRET.encode() not in cmdline, cmdline
        assert REDIS_PASSWORD.encode() not in cmdline, cmdline
        environ = read_proc(pid, "environ")
        carrying = [e.split(b"=", 1)[0] for e in environ if SESSION_SECRET.encode() in e]
        # Workers inherit the variable the user set; the master's process title overwrote
        # the memory /proc shows as its environment, so there it may be gone.
        expected = [] if pid == server.pid and not carrying else [b"SOCKD_SESSION_SECRET"]
        assert carrying == expected, f"pid {pid}"
        assert not [entry for entry in environ if REDIS_PASSWORD.encode() in entry]
    assert read_proc(server.pid, "cmdline")[0].startswith(b"sockd: master [sockd-")

    # The secrets did reach the workers: they joined Redis with the password, and the
    # session secret signs (sockd refuses to start without it in env prod).
    async def scenario() -> object:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            f"http://127.0.0.1:{server.port}", transports=["websocket"], wait_timeout=10
        )
        try:
            return await client.call("ping", timeout=10)
        finally:
            await client.shutdown()

    assert asyncio.run(scenario())
    clients = redis.Redis.from_url(url, password=REDIS_PASSWORD).client_list()
    assert len(clients) >= 3, "each worker's bus connections, and ours"
