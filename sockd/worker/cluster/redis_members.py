"""Who is in the cluster over Redis: each member announces itself, and a request expects
an answer from every member alive when it is made.

Members live in one sorted set per channel (``socketio:sockd-members``): the member (its
id, pid, slot and host, as JSON) scored with the time its announcement lapses. A member
renews it every ``ANNOUNCE_INTERVAL`` seconds for ``MEMBER_TTL``; one that stops (killed,
its host gone, cut off from Redis) counts as gone once that lapses, as Node's adapters
count a server gone after its heartbeats stop. One that stops serving scores itself "now",
which every other member reads as gone at once (and which is forgotten a minute later).

Each member also keeps the members it read, until their announcement lapses: a Redis that
restarted without its data forgets them all at once, and until each has announced itself
again (within ``ANNOUNCE_INTERVAL``) they are still expected. A list that lacks this
member's own entry is not whole (Redis lost it, and not every member has come back yet):
``others`` says so, so that a call can say so too rather than return silently less.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from sockd.worker.bus.redis_clients import BusClient
from sockd.worker.cluster.members import Member

ANNOUNCE_INTERVAL = 2.0
MEMBER_TTL = 6.0
#: Seconds a lapsed or departed member's entry stays, read as gone, before it is removed.
FORGET_AFTER = 60.0


def members_key(channel: str) -> str:
    return f"{channel}:sockd-members"


class RedisMembers:
    def __init__(
        self,
        client: BusClient,
        channel: str,
        me: Member,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._key = members_key(channel)
        self._me = me
        self._entry = json.dumps(me.to_json(), sort_keys=True)
        self._clock = clock
        #: Members read alive, by id, with when their announcement lapses (seconds).
        self._known: dict[str, tuple[Member, float]] = {}

    async def announce(self) -> None:
        """Renew this member's announcement, forget old entries, and read the others."""
        now = self._clock()
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zadd(self._key, {self._entry: (now + MEMBER_TTL) * 1000})
            pipe.zremrangebyscore(self._key, "-inf", (now - FORGET_AFTER) * 1000)
            pipe.zrange(self._key, 0, -1, withscores=True)
            *_, entries = await pipe.execute()
        self.read(entries, self._clock())

    async def leave(self) -> None:
        """Stop being asked: the entry scored "now" reads as gone."""
        await self._client.zadd(self._key, {self._entry: self._clock() * 1000})

    async def others(self) -> tuple[list[Member], bool]:
        """The other members to ask, and whether the list is whole."""
        entries: list[Any] = await self._client.zrange(self._key, 0, -1, withscores=True)
        whole = self.read(entries, self._clock())
        return self.alive(self._clock()), whole

    def read(self, entries: list[tuple[Any, float]], now: float) -> bool:
        """Take what Redis holds (entry, lapse time in ms); True if this member is in it."""
        whole = False
        for entry, score in entries:
            try:
                member = Member.from_json(json.loads(entry))
            except (ValueError, KeyError, TypeError):
                continue  # not a sockd member's entry
            lapses = float(score) / 1000
            if member.id == self._me.id:
                whole = lapses > now
            elif lapses > now:
                self._known[member.id] = (member, lapses)
            else:
                self._known.pop(member.id, None)  # lapsed, or left
        return whole

    def alive(self, now: float) -> list[Member]:
        """The other members whose announcement, as last read, has not lapsed."""
        for member_id in [i for i, (_, lapses) in self._known.items() if lapses <= now]:
            del self._known[member_id]
        return [member for member, _ in self._known.values()]
