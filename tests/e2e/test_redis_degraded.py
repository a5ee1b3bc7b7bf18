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
import uuid
from typing import Any

import pytest

from tests.e2e.bus_traffic import CANDIDATES, members_on
from tests.harness import (
    RedisServer,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    open_clients,
    run_sockd,
    sockd_status,
    wait_until,
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


QUEUE_LIMIT, SENT = 20, 50


@pytest.mark.timeout(90)
def test_past_the_queue_bound_messages_are_dropped_counted_and_logged_once(
    sockd: SockdLauncher, outage_redis: RedisServer, source_addresses: SourceAddresses
) -> None:
    """While Redis is down a worker keeps ``queue_limit`` bus messages and drops the rest:
    ``sockd status`` counts them, one log line says so, the kept ones arrive in order once
    Redis is back, and the other worker counts the dropped ones as missed."""
    server = sockd(
        workers=2,
        redis=outage_redis.url,
        env={"SOCKD_IO_REDIS_QUEUE_LIMIT": str(QUEUE_LIMIT)},
    )
    wait_until_sync(lambda: _all(server, "connected"), 10.0, "both buses connected")

    async def scenario() -> None:
        async with members_on(server.port, 2, source_addresses(CANDIDATES), 1) as members:
            sender, receiver = members
            sender_pid = int((await sender.whoami())["pid"])
            receiver_pid = int((await receiver.whoami())["pid"])
            room = f"bound-{uuid.uuid4()}"
            for member in members:
                await member.call("join", room)
            await asyncio.to_thread(outage_redis.stop)
            await asyncio.to_thread(
                wait_until_sync, lambda: _all(server, "degraded"), 15.0, "degraded buses"
            )
            mark = server.line_count()
            for number in range(1, SENT + 1):  # each answered at once, Redis or not
                assert await sender.call("broadcast", {"room": room, "payload": number})
            expected = (QUEUE_LIMIT, SENT - QUEUE_LIMIT)

            def counted() -> bool:  # the figures come with the next heartbeat
                bus = _buses(server)[sender_pid]
                return (bus["queued"], bus["dropped"]) == expected

            await asyncio.to_thread(wait_until_sync, counted, 5.0, f"queued, dropped {expected}")
            lines = [line for line in server.lines()[mark:] if "dropped in the last" in line]
            assert len(lines) == 1 and f"[{sender_pid}]" in lines[0], lines

            await asyncio.to_thread(outage_redis.start)
            await wait_until(
                lambda: len(receiver.news) >= QUEUE_LIMIT, 15.0, "the queued broadcasts"
            )
            assert receiver.news == list(range(1, QUEUE_LIMIT + 1))
            assert await sender.call("broadcast", {"room": room, "payload": SENT + 1})
            await wait_until(lambda: receiver.news[-1] == SENT + 1, 10.0, "the next one")
            await asyncio.to_thread(
                wait_until_sync,
                lambda: _buses(server)[receiver_pid]["missed"] == SENT - QUEUE_LIMIT,
                5.0,
                "the dropped ones counted as missed by the other worker",
            )

    asyncio.run(scenario())
