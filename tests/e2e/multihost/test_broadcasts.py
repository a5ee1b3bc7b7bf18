"""Room broadcasts across hosts over the shared Redis: every member gets each one once.

Rooms have members on every host; every member broadcasts to its room, and each member
counts each broadcast it receives. Each member's last broadcast is a fence: a worker's bus
messages arrive in the order it sent them, so once every fence is in, a duplicate of an
earlier broadcast would have arrived too.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

import pytest

from tests.e2e.multihost.clients import Member, close_all, connect_members, sources_by_host
from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.netns import require_namespaces

require_namespaces()

ROOMS = 3
#: Members of each room on each host.
PER_HOST = 3
MESSAGES = 10


@pytest.mark.timeout(120)
def test_cross_host_room_broadcasts_arrive_exactly_once(cluster: Cluster) -> None:
    async def scenario() -> dict[str, Counter[tuple[str, int]]]:
        groups = await sources_by_host(cluster.net.sources[300:420])
        assert all(len(groups.get(h, [])) >= ROOMS * PER_HOST for h in cluster.hosts), groups
        members: list[Member] = []
        for role in sorted(cluster.hosts):
            for i, source in enumerate(groups[role][: ROOMS * PER_HOST]):
                members.append(Member(source, rooms=[f"room{i % ROOMS}"]))
        try:
            await connect_members(members)
            assert {m.served_by for m in members} == set(cluster.hosts)
            expected = {
                room: {
                    (m.source_ip, n)
                    for m in members
                    if m.rooms == [room]
                    for n in range(MESSAGES + 1)
                }
                for room in {m.rooms[0] for m in members}
            }

            async def send(member: Member) -> None:
                for n in range(MESSAGES + 1):  # the last one is the fence
                    payload = {"from": member.source_ip, "n": n}
                    await member.call("broadcast", {"room": member.rooms[0], "payload": payload})

            await asyncio.gather(*(send(m) for m in members))
            deadline = time.monotonic() + 20
            fences = {
                room: {(s, n) for s, n in keys if n == MESSAGES} for room, keys in expected.items()
            }
            while not all(fences[m.rooms[0]] <= _keys(m) for m in members):
                assert time.monotonic() < deadline, "fences missing"
                await asyncio.sleep(0.05)
            received = {m.source_ip: Counter(_keyed(m)) for m in members}
            for member in members:
                assert set(received[member.source_ip]) == expected[member.rooms[0]], member
            return received
        finally:
            await close_all(members)

    received = cluster.run(scenario, 100)
    counts = Counter(itertools.chain.from_iterable(c.values() for c in received.values()))
    deliveries = sum(sum(c.values()) for c in received.values())
    print(
        f"\n{deliveries} deliveries to {len(received)} members on 3 hosts; "
        f"times each was received: {dict(counts)}"
    )
    assert set(counts) == {1}, "a broadcast reached a member twice"


def _keyed(member: Member) -> list[tuple[str, int]]:
    return [(p["from"], p["n"]) for p in member.news]


def _keys(member: Member) -> set[tuple[str, int]]:
    return set(_keyed(member))
