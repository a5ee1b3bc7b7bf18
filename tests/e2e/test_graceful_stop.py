"""SIGTERM (and SIGINT) drain: exit 0 within --graceful-timeout, clients told, and they come back.

The restart half is what users rely on during a deploy: a new sockd on the same port, and
the clients reconnect by themselves (python-socketio's own reconnection, nothing scripted).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import pytest

from tests.harness import (
    EXIT_RE,
    SockdLauncher,
    SourceAddresses,
    alive,
    open_clients,
    wait_until,
)

GRACEFUL = 10.0
MARGIN = 3.0  # process exit and reaping after the graceful timeout ran out


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_stop_signal_exits_zero_and_clients_reconnect_to_the_next_sockd(
    sockd: SockdLauncher,
    stop_signal: signal.Signals,
    free_port: Callable[[], int],
    source_addresses: SourceAddresses,
) -> None:
    """SIGTERM/SIGINT with clients on every transport: exit 0 in time, disconnects, reconnects."""
    port = free_port()
    first = sockd(workers=2, sticky=True, port=port, graceful_timeout=GRACEFUL)
    sources = source_addresses(6)

    async def scenario() -> None:
        transports = [["polling"], ["websocket"], ["polling", "websocket"]]
        async with (
            open_clients(port, sources[0:2], transports[0]) as polling,
            open_clients(port, sources[2:4], transports[1]) as websocket,
            open_clients(port, sources[4:6], transports[2]) as upgraded,
        ):
            clients = polling + websocket + upgraded
            before = await asyncio.gather(*(c.whoami() for c in clients))
            assert {info["pid"] for info in before} <= set(first.slot_pids().values())
            workers = first.descendants()

            started = time.monotonic()
            first.send_signal(stop_signal)
            code = await asyncio.to_thread(first.proc.wait, GRACEFUL + MARGIN)
            elapsed = time.monotonic() - started
            assert code == 0, f"exit code {code} after {stop_signal.name}:\n{first.output_tail()}"
            assert elapsed <= GRACEFUL + MARGIN
            # Told to go, the clients leave at once: the drain must end by itself, not by the
            # kill at the deadline, and no client may have reconnected to a draining worker.
            connects_at_exit = {c.source_ip: c.connects for c in clients}
            killed = [line for line in first.lines() if EXIT_RE.search(line) and "kill" in line]
            if killed:
                problems.append(f"workers had to be killed after {elapsed:.1f}s: {killed}")
            if set(connects_at_exit.values()) != {1}:
                problems.append(
                    f"clients reconnected before the new sockd existed: {connects_at_exit}"
                )
            await wait_until(
                lambda: not any(alive(w) for w in workers), 5.0, "workers gone after the master"
            )
            await wait_until(
                lambda: all(c.disconnects for c in clients), 5.0, "every client to see a disconnect"
            )

            second = await asyncio.to_thread(sockd, workers=2, sticky=True, port=port)
            await wait_until(
                lambda: all(c.connected and c.connects >= 2 for c in clients),
                30.0,
                "every client to reconnect by itself to the new sockd",
            )
            after = await asyncio.gather(*(c.whoami() for c in clients))
            new_workers = set(second.slot_pids().values())
            assert {info["pid"] for info in after} <= new_workers

    problems: list[str] = []  # checked after the restart half ran, so both halves report
    asyncio.run(scenario())
    assert not problems, "\n".join(problems)
