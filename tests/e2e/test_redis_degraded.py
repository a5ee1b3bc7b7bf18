"""Redis is a run-time dependency: only the master's first start insists on reaching it.

With Redis down, a worker killed by SIGKILL comes back and serves, a rolling reload
completes and a slot added with SIGTTIN starts: none counts toward the crash-loop guard.
``sockd status`` shows each worker's bus degraded (and since when) until Redis is back,
then connected again.
(The first start's refusal is in test_errors.py: ``test_unreachable_redis``.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

import pytest

from tests.harness import (
    RedisServer,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    open_clients,
    run_sockd,
    sockd_status,
    wait_until_sync,
)

WORKERS = 2
CLIENTS = 16


def _buses(server: SockdProcess) -> dict[int, dict[str, Any]]:
    status = sockd_status("--title", f"sockd-{server.port}")
    return {row["pid"]: row.get("bus") or {} for row in status["workers"] if row.get("pid")}


def _all(server: SockdProcess, state: str, workers: int = WORKERS) -> bool:
    buses = _buses(server)
    return len(buses) == workers and all(b.get("state") == state for b in buses.values())


def _served_by(server: SockdProcess, sources: list[str]) -> set[int]:
    """The worker pids that new clients from ``sources`` reach (each one answers)."""

    async def ask() -> set[int]:
        async with open_clients(server.port, sources, ["websocket"]) as cs:
            return {int((await c.whoami())["pid"]) for c in cs}

    return asyncio.run(ask())


@pytest.mark.timeout(150)
def test_workers_restart_and_reload_while_redis_is_down(
    sockd: SockdLauncher, outage_redis: RedisServer, source_addresses: SourceAddresses
) -> None:
    server = sockd(workers=WORKERS, redis=outage_redis.url)
    sources = source_addresses(CLIENTS)
    wait_until_sync(lambda: _all(server, "connected"), 10.0, "both buses connected")
    outage_redis.stop()
    down_at = time.time()
    wait_until_sync(lambda: _all(server, "degraded"), 15.0, "both buses degraded")
    assert all(b["degraded_since"] >= down_at - 1 for b in _buses(server).values())
    table = run_sockd("status", "--title", f"sockd-{server.port}")
    assert "BUS" in table.stdout and table.stdout.count(" degraded ") == WORKERS, table.stdout

    victim = server.slot_pids()[0]
    mark = server.line_count()
    os.kill(victim, signal.SIGKILL)
    server.wait_for_match(r"worker 0 ready \(pid \d+\)", 30.0, mark)
    assert server.slot_pids()[0] != victim
    assert _served_by(server, sources) == set(server.slot_pids().values())

    mark = server.line_count()
    server.send_signal(signal.SIGHUP)
    server.wait_for_line("reload 1 finished", 90.0, mark)
    assert not [line for line in server.lines()[mark:] if "failed to start" in line]
    assert _served_by(server, sources) == set(server.slot_pids().values())
    assert _all(server, "degraded"), _buses(server)

    mark = server.line_count()
    server.send_signal(signal.SIGTTIN)
    server.wait_for_match(rf"worker {WORKERS} ready \(pid \d+\)", 30.0, mark)
    wait_until_sync(lambda: _all(server, "degraded", WORKERS + 1), 10.0, "3 degraded buses")

    outage_redis.start()
    wait_until_sync(
        lambda: _all(server, "connected", WORKERS + 1), 15.0, "the buses connected again"
    )
    assert server.proc.poll() is None, "the master exited"
