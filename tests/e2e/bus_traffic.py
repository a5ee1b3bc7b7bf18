"""Room traffic across workers for the Redis outage tests: who sent what, who got what, when.

Every member of one room is also a sender: each broadcasts numbered payloads to the room at
a steady pace, as the echo app's ``broadcast`` event (acked once ``sio.emit`` returned).
Each member should get every acked broadcast exactly once; what it got twice is a
duplicate, what it never got is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.harness import Client

#: Seconds between two broadcasts of one sender.
PACE = 0.05


#: Source addresses to try, at most, to find members on every worker.
CANDIDATES = 64


@contextlib.asynccontextmanager
async def members_on(
    port: int,
    workers: int,
    sources: Sequence[str],
    per_worker: int = 3,
    host: str = "127.0.0.1",
) -> AsyncIterator[list[Client]]:
    """``per_worker`` connected clients on each of the ``workers`` workers of the sockd at
    ``host:port``, from ``sources`` (the sticky hash decides who lands where, so clients
    from more addresses are tried, and the extra ones closed); closed on exit."""
    kept: dict[int, list[Client]] = {}
    try:
        for first in range(0, len(sources), 8):
            batch = [
                Client(port, ip, ["websocket"], host=host) for ip in sources[first : first + 8]
            ]
            await asyncio.gather(*(c.connect() for c in batch))
            for client, info in zip(
                batch, await asyncio.gather(*(c.whoami() for c in batch)), strict=True
            ):
                group = kept.setdefault(int(info["pid"]), [])
                if len(group) < per_worker:
                    group.append(client)
                else:
                    await client.close()
            if len(kept) == workers and all(len(g) == per_worker for g in kept.values()):
                break
        assert len(kept) == workers, f"{len(sources)} addresses reached {len(kept)} workers"
        yield [client for group in kept.values() for client in group]
    finally:
        await asyncio.gather(*(c.close() for g in kept.values() for c in g))


@dataclass
class Call:
    sender: int
    number: int
    sent_at: float
    acked_at: float | None = None


@dataclass
class Traffic:
    """Numbered broadcasts among ``members`` (each in its own worker group, see ``worker``)."""

    members: Sequence[Client]
    #: member index -> pid of the worker that serves it.
    worker: dict[int, int]
    room: str = field(default_factory=lambda: f"outage-{uuid.uuid4()}")
    calls: list[Call] = field(default_factory=list)
    #: member index -> (arrival time, sender, number) of every broadcast it got.
    arrivals: dict[int, list[tuple[float, int, int]]] = field(default_factory=dict)
    #: Members that were disconnected while the traffic ran (noted by :meth:`settle`).
    disconnected: list[Client] = field(default_factory=list)

    async def join(self) -> None:
        for index, member in enumerate(self.members):
            assert member.sio is not None
            self.arrivals[index] = []
            member.sio.on("news", self._recorder(index))
        acks = await asyncio.gather(*(m.call("join", self.room) for m in self.members))
        assert all(ack["room"] == self.room for ack in acks), acks

    def _recorder(self, index: int) -> Any:
        async def record(payload: Any) -> None:
            if isinstance(payload, dict) and payload.get("room") == self.room:
                self.arrivals[index].append((time.monotonic(), payload["s"], payload["n"]))

        return record

    async def run(self, stop: asyncio.Event) -> None:
        """Broadcast from every member until ``stop`` is set."""
        await asyncio.gather(*(self._send(i, stop) for i in range(len(self.members))))

    async def _send(self, sender: int, stop: asyncio.Event) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            call = Call(sender, number, time.monotonic())
            self.calls.append(call)
            payload = {"room": self.room, "s": sender, "n": number}
            with contextlib.suppress(TimeoutError):
                await self.members[sender].call(
                    "broadcast", {"room": self.room, "payload": payload}, timeout=30
                )
                call.acked_at = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), PACE)

    async def settle(self, quiet: float = 1.0, bound: float = 15.0) -> None:
        """Wait until every member has every acked broadcast, or nothing arrived for
        ``quiet`` seconds (bounded)."""
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            if all(not self.lost(i) for i in self.arrivals):
                break
            newest = max((a[-1][0] for a in self.arrivals.values() if a), default=0.0)
            if time.monotonic() - newest > quiet:
                break
            await asyncio.sleep(0.1)
        self.disconnected = [m for m in self.members if m.disconnects]

    def lost(self, member: int) -> set[tuple[int, int]]:
        """Acked broadcasts ``member`` never got."""
        got = {(s, n) for _, s, n in self.arrivals[member]}
        return {(c.sender, c.number) for c in self.calls if c.acked_at is not None} - got

    def out_of_order(self, member: int) -> int:
        """Broadcasts ``member`` got after a later one of the same sender."""
        newest: dict[int, int] = {}
        late = 0
        for _, sender, number in self.arrivals[member]:
            if number < newest.get(sender, 0):
                late += 1
            newest[sender] = max(number, newest.get(sender, 0))
        return late

    def duplicates(self, member: int) -> int:
        counts = Counter((s, n) for _, s, n in self.arrivals[member])
        return sum(count - 1 for count in counts.values())

    def lost_by_worker(self) -> dict[int, set[tuple[int, int]]]:
        """worker pid -> the broadcasts from other workers that its members did not get."""
        lost: dict[int, set[tuple[int, int]]] = {}
        for member in self.arrivals:
            pid = self.worker[member]
            missing = {(s, n) for s, n in self.lost(member) if self.worker[s] != pid}
            lost.setdefault(pid, set()).update(missing)
        return lost

    def resumed_after(self, since: float) -> float | None:
        """Seconds from ``since`` until every member got a broadcast from another worker
        again (None if one never did)."""
        latest = 0.0
        for member, arrivals in self.arrivals.items():
            pid = self.worker[member]
            first = next((t for t, s, _ in arrivals if t >= since and self.worker[s] != pid), None)
            if first is None:
                return None
            latest = max(latest, first - since)
        return latest

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time, in [since, until], that a member went without a broadcast
        from another worker (the bus's gap as the clients saw it)."""
        longest = 0.0
        for member, arrivals in self.arrivals.items():
            pid = self.worker[member]
            times = [t for t, s, _ in arrivals if since <= t <= until and self.worker[s] != pid]
            edges = [since, *times, until]
            longest = max(longest, *(b - a for a, b in itertools.pairwise(edges)))
        return longest

    def delays(self, members: Sequence[int], senders: Sequence[int]) -> list[float]:
        """Seconds from sending to arrival, of every broadcast ``members`` got from
        ``senders``."""
        sent_at = {(c.sender, c.number): c.sent_at for c in self.calls}
        wanted = set(senders)
        return [
            t - sent_at[(s, n)]
            for member in members
            for t, s, n in self.arrivals[member]
            if s in wanted and (s, n) in sent_at
        ]

    def acks_between(self, start: float, end: float, deadline: float) -> tuple[int, int]:
        """Of the calls sent in [start, end): how many, and how many were acked before
        ``deadline``."""
        window = [c for c in self.calls if start <= c.sent_at < end]
        acked = sum(1 for c in window if c.acked_at is not None and c.acked_at < deadline)
        return len(window), acked
