"""Recycling: ``--max-memory`` and ``--max-age`` replace workers gracefully, one at a time.

A worker whose RSS grows past the limit gets a successor; once that serves, the old one
drains and its clients come back to the same slot. When every worker is due at once, the
replacements still run strictly one after another: a new one starts only after the
previous old worker has exited.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.harness import (
    OPS_APP,
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    wait_until,
    worker_map,
)

WORKERS = 2
#: Well above a fresh worker's RSS (about 60 MB), well below one that took GROW more.
MAX_MEMORY = 160
GROW = 150
REPLACING = re.compile(r"worker (\d+) \(pid (\d+)\) is being replaced: recycling: (.*)")
EXITED = re.compile(r"worker (\d+) \(pid (\d+)\) exited")

pytestmark = pytest.mark.usefixtures("runtime_dir")


def recycled_one_at_a_time(proc: SockdProcess, since: int) -> list[tuple[int, int, str]]:
    """The recycling steps logged after ``since``, as (slot, old pid, reason); fails if a
    step began before the previous step's old worker had exited."""
    steps: list[tuple[int, int, str]] = []
    waiting_for: int | None = None
    for line in proc.lines()[since:]:
        replacing = REPLACING.search(line)
        if replacing:
            assert waiting_for is None, f"recycling began while pid {waiting_for} ran: {line}"
            slot, pid = int(replacing[1]), int(replacing[2])
            steps.append((slot, pid, replacing[3]))
            waiting_for = pid
        exited = EXITED.search(line)
        if exited and int(exited[2]) == waiting_for:
            waiting_for = None
    return steps


@pytest.mark.timeout(120)
def test_max_memory_recycles_grown_workers_one_at_a_time(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd("--max-memory", str(MAX_MEMORY), app=OPS_APP, workers=WORKERS)
    slots = proc.slot_pids()
    slot_of = {pid: slot for slot, pid in slots.items()}
    mark = proc.line_count()

    async def scenario() -> None:
        placement = await worker_map(proc.port, source_addresses(20))
        one_per_slot = {slot_of[pid]: ip for ip, pid in placement.items()}
        assert set(one_per_slot) == set(slots), placement
        clients = [Client(proc.port, one_per_slot[slot], ["websocket"]) for slot in slots]
        try:
            await asyncio.gather(*(c.connect() for c in clients))
            # Both workers grow past the limit at once.
            grown = await asyncio.gather(*(c.call("grow", GROW) for c in clients))
            assert sorted(grown) == sorted(slots.values())
            await asyncio.to_thread(
                lambda: [
                    proc.wait_for_match(rf"worker {slot} \(pid {pid}\) exited", 60.0, mark)
                    for slot, pid in slots.items()
                ]
            )
            new_slots = proc.slot_pids()
            assert not set(new_slots.values()) & set(slots.values())
            await wait_until(
                lambda: all(c.connects >= 2 and c.connected for c in clients),
                30.0,
                "clients back after recycling",
            )
            for slot, client in zip(slots, clients, strict=True):
                assert (await client.whoami())["pid"] == new_slots[slot]
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    asyncio.run(scenario())
    steps = recycled_one_at_a_time(proc, mark)
    assert sorted((slot, pid) for slot, pid, _ in steps) == sorted(slots.items()), steps
    assert all(f"over --max-memory {MAX_MEMORY}" in reason for _, _, reason in steps)


@pytest.mark.timeout(90)
def test_max_age_recycles_each_worker_in_turn(sockd: SockdLauncher) -> None:
    proc = sockd("--max-age", "3", app=OPS_APP, workers=WORKERS)
    slots = proc.slot_pids()
    mark = 0
    for slot, pid in slots.items():
        proc.wait_for_match(rf"worker {slot} \(pid {pid}\) exited", 60.0, mark)
    steps = recycled_one_at_a_time(proc, mark)
    first_round = [(slot, pid) for slot, pid, _ in steps if pid in slots.values()]
    assert sorted(first_round) == sorted(slots.items()), steps
    assert all("past --max-age 3" in reason for _, _, reason in steps)
    assert not any("unexpectedly" in line or "killing" in line for line in proc.lines())
