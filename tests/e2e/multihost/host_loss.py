"""kill -9 of a whole host (master and workers) under a stream of room broadcasts: the
scenario of the host-loss tests, whichever client the room's members are.

A sender on another host broadcasts numbered payloads to the room, one every ``PERIOD``
seconds, each acked before the next; members on every host are in the room. Once each has
some, the lost host is killed; the scenario waits until every client of it was served by
another host (for each, the seconds from the kill: the figure the tests print), lets the
stream go on a moment, stops it, and waits until every member has the last broadcast.
What each member received, against what was sent, is the other figure.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tests.e2e.multihost.clients import Member, distribution, sources_by_host
from tests.e2e.multihost.cluster import Cluster
from tests.harness import wait_until

LOST = "h2"
ROOM = "feed"
VICTIMS = 24
#: Members on each other host.
SURVIVORS = 8
#: Seconds between two broadcasts of the stream.
PERIOD = 0.02
#: Generous: HAProxy retries a refused connection on another host at once.
RECONNECT_BOUND = 30.0


class Receiver(Protocol):
    """A member of the room, whatever client it is (:class:`Member`, ``JsMember``)."""

    source_ip: str
    news: list[Any]

    @property
    def served_by(self) -> str | None: ...

    def served_elsewhere_after(self, since: float, lost: str) -> float | None: ...


@dataclass(frozen=True)
class Cast:
    """Source addresses: of the lost host's clients, of the others' members, of the sender
    (on another host, not in the room)."""

    victims: list[str]
    survivors: list[str]
    sender: str


async def cast(sources: Sequence[str], port: int) -> Cast:
    """Who plays which part, by where the balancer on ``port`` sends each source."""
    groups = await sources_by_host(sources, port)
    others = sorted(set(groups) - {LOST})
    victims = groups[LOST][:VICTIMS]
    assert len(victims) == VICTIMS and len(others) == 2, {h: len(s) for h, s in groups.items()}
    survivors = [ip for role in others for ip in groups[role][:SURVIVORS]]
    return Cast(victims, survivors, groups[others[0]][SURVIVORS])


@dataclass(frozen=True)
class HostLoss:
    """What the kill did: every broadcast sent (acked), and for each client of the lost
    host the seconds until another host served it."""

    sent: list[int]
    gaps: dict[str, float]
    #: host -> how many of the lost host's clients it serves now.
    new_homes: Counter[str]

    def lost(self, members: Sequence[Receiver]) -> dict[str, int]:
        """source -> broadcasts it never received."""
        return {m.source_ip: len(set(self.sent) - set(m.news)) for m in members}


async def kill_under_stream(
    cluster: Cluster, victims: Sequence[Receiver], survivors: Sequence[Receiver], sender: Member
) -> HostLoss:
    """Run the scenario on connected members (``victims`` on the lost host, in the room)."""
    members = [*victims, *survivors]
    assert {m.served_by for m in victims} == {LOST}, [m.served_by for m in victims]
    sent: list[int] = []
    stop = asyncio.Event()

    async def stream() -> None:
        while not stop.is_set():
            await sender.call("broadcast", {"room": ROOM, "payload": len(sent)})
            sent.append(len(sent))
            await asyncio.sleep(PERIOD)

    streaming = asyncio.get_running_loop().create_task(stream())
    try:
        await wait_until(lambda: all(len(m.news) >= 10 for m in members), 20, "the stream")
        killed_at = await asyncio.to_thread(cluster.hosts[LOST].kill9)
        await wait_until(
            lambda: all(m.served_elsewhere_after(killed_at, LOST) is not None for m in victims),
            RECONNECT_BOUND,
            "every client of the killed host served elsewhere",
        )
        await asyncio.sleep(1.0)  # the stream goes on a moment after the last one is back
    finally:
        stop.set()
        await streaming
    last = sent[-1]
    await wait_until(lambda: all(last in m.news for m in members), 20, "the last broadcast")
    for member in members:
        assert len(member.news) == len(set(member.news)), f"{member!r} got a duplicate"
    gaps = {m.source_ip: m.served_elsewhere_after(killed_at, LOST) or 0.0 for m in victims}
    return HostLoss(sent, gaps, Counter(m.served_by or "?" for m in victims))


def report(
    label: str, loss: HostLoss, victims: Sequence[Receiver], survivors: Sequence[Receiver]
) -> str:
    """The figures docs/multi-host.md quotes: time until served elsewhere, broadcasts lost."""
    lost = sorted(loss.lost(victims).values())
    return (
        f"\nkill -9 of {LOST} ({label}): its {len(victims)} clients served elsewhere after "
        f"{distribution(list(loss.gaps.values()))}; now on {dict(sorted(loss.new_homes.items()))}"
        f"\nbroadcasts lost per client of {LOST} (one every {PERIOD * 1000:.0f} ms, "
        f"{len(loss.sent)} sent): min {lost[0]}, median {statistics.median(lost):g}, "
        f"max {lost[-1]}, total {sum(lost)}; "
        f"on the other hosts: {sum(loss.lost(survivors).values())}"
    )
