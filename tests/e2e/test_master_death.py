"""No orphan keeps serving: when the master is SIGKILLed, every worker exits within 5 s.

A worker learns of the master's death only from EOF on its channel; this test kills the
master the hard way (no chance to tell anyone) while clients are connected.
"""

from __future__ import annotations

import asyncio
import signal
import time

from tests.harness import SockdLauncher, SourceAddresses, alive, open_clients

EXIT_BOUND = 5.0


def test_workers_exit_within_five_seconds_of_master_sigkill(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """kill -9 the master with clients connected: all its descendants are gone within 5 s."""
    proc = sockd(workers=2, sticky=True)

    async def scenario() -> tuple[list[int], list[int], float]:
        async with open_clients(proc.port, source_addresses(6), ["websocket"]) as clients:
            served = {info["pid"] for info in await asyncio.gather(*(c.whoami() for c in clients))}
            descendants = proc.descendants()
            pids = {p.pid for p in descendants}
            assert served <= pids, f"workers {served} are not children of the master {pids}"
            assert len(proc.worker_pids()) >= 2
            proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            deadline = killed + EXIT_BOUND
            while time.monotonic() < deadline and any(alive(p) for p in descendants):
                await asyncio.sleep(0.05)
            left = [p.pid for p in descendants if alive(p)]
            return sorted(pids), left, time.monotonic() - killed

    pids, left, elapsed = asyncio.run(scenario())
    assert proc.proc.wait(5) == -signal.SIGKILL
    assert left == [], f"of {pids}, {left} still alive {elapsed:.1f}s after the master died"
