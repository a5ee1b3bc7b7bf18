"""A worker killed with SIGKILL comes back in the same slot; nobody else notices.

Stable slots are the promise: the master restarts the dead worker as the same slot, so the
victims' addresses still hash to it, and clients of the other workers keep their sessions.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import pytest

from tests.harness import (
    Client,
    SockdLauncher,
    SourceAddresses,
    by_worker,
    open_clients,
    wait_until,
)

WORKERS = 4


@pytest.mark.timeout(150)
def test_killed_worker_restarts_in_its_slot_and_only_its_clients_reconnect(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """kill -9 one worker under load: same slot, new pid; others keep their sid; victims
    reconnect and land on the new worker."""
    proc = sockd(workers=WORKERS, sticky=True)

    async def scenario() -> None:
        async with open_clients(proc.port, source_addresses(40), ["websocket"]) as clients:
            groups = await by_worker(clients)
            slots = proc.slot_pids()
            assert set(groups) == set(slots.values()), (
                f"40 clients should reach all {WORKERS} workers {slots}, reached {set(groups)}"
            )
            victim_slot = sorted(slots)[1]
            victim_pid = slots[victim_slot]
            victims = groups[victim_pid]
            others = [c for c in clients if c not in victims]
            sids_before = {c.source_ip: c.sid for c in others}

            # Load on the other workers while the victim dies and restarts.
            stop = asyncio.Event()
            failures: list[str] = []

            async def load(client: Client) -> None:
                n = 0
                while not stop.is_set():
                    try:
                        assert await client.call("echo", n) == n
                    except Exception as exc:
                        failures.append(f"{client!r} echo {n}: {exc!r}")
                    n += 1
                    await asyncio.sleep(0.05)

            loaders = [asyncio.create_task(load(c)) for c in others]
            mark = proc.line_count()
            os.kill(victim_pid, signal.SIGKILL)
            killed_at = time.monotonic()

            ready = await asyncio.to_thread(
                proc.wait_for_match,
                re.compile(rf"worker {victim_slot} ready \(pid (?!{victim_pid}\))(\d+)\)"),
                30.0,
                mark,
            )
            new_pid = int(ready.group(1))
            exited = await asyncio.to_thread(
                proc.wait_for_match,
                rf"worker {victim_slot} \(pid {victim_pid}\) exited",
                5.0,
                mark,
            )
            assert exited is not None

            await wait_until(
                lambda: all(v.disconnects and v.connected and v.connects >= 2 for v in victims),
                30.0,
                f"{len(victims)} victims to see a disconnect and reconnect",
            )
            reconnected_after = time.monotonic() - killed_at
            infos = await asyncio.gather(*(v.whoami() for v in victims))
            stop.set()
            await asyncio.gather(*loaders)

            landed = {v.source_ip: info["pid"] for v, info in zip(victims, infos, strict=True)}
            assert all(pid == new_pid for pid in landed.values()), (
                f"victims should land on the new worker {new_pid} of slot {victim_slot}: "
                f"{landed} (reconnected {reconnected_after:.1f}s after the kill)"
            )
            assert failures == [], f"{len(failures)} echoes failed on other workers: {failures[:5]}"
            dropped = [c for c in others if c.disconnects or c.connects != 1]
            assert dropped == [], f"clients of other workers saw a disconnect: {dropped}"
            assert {c.source_ip: c.sid for c in others} == sids_before
            other_infos = await asyncio.gather(*(c.whoami() for c in others))
            for client, info in zip(others, other_infos, strict=True):
                assert info["sid"] == sids_before[client.source_ip]
                assert info["pid"] != victim_pid
            slots_after = proc.slot_pids()
            assert slots_after[victim_slot] == new_pid
            assert {s: p for s, p in slots_after.items() if s != victim_slot} == {
                s: p for s, p in slots.items() if s != victim_slot
            }, "other slots must keep their workers"

    asyncio.run(scenario())
