"""A worker counts as ready only after the app's startup finished.

Connections that arrive while the app is still starting wait in the master's
queue and are served once it is ready, never by an app that has not started.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import READY_RE, Client, SockdLauncher, SourceAddresses


def test_connections_wait_for_the_app_startup(
    sockd: SockdLauncher, monkeypatch: pytest.MonkeyPatch, source_addresses: SourceAddresses
) -> None:
    monkeypatch.setenv("SLOW_START_SECONDS", "2")
    server = sockd(app="tests.apps.slow_start_app:app", workers=2, wait_ready=False)
    server.wait_for_line("worker 0 started", timeout=15)

    async def scenario() -> list[bool]:
        clients = [Client(server.port, ip, ["polling"]) for ip in source_addresses(4)]
        try:
            await asyncio.gather(*(client.connect(timeout=20) for client in clients))
            return [await client.call("started_yet") for client in clients]
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    answers = asyncio.run(scenario())
    assert answers == [True] * 4, "a client was served before the app's startup finished"
    lines = server.lines()
    ready = {int(m.group(2)): i for i, line in enumerate(lines) if (m := READY_RE.search(line))}
    assert len(ready) == 2
    for pid, ready_at in ready.items():
        marker = f"slow app startup finished (pid {pid})"
        started_at = next(i for i, line in enumerate(lines) if marker in line)
        assert started_at < ready_at, f"worker {pid} reported ready before its app started"
