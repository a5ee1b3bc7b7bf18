"""Who is in the cluster over Redis: each member announces itself, and a request expects
an answer from every member alive when it is made.

Members live in one sorted set per channel (``socketio:sockd-members``): the member (its
id, pid, slot and host, as JSON) scored with the time its announcement lapses. A member
renews it every ``ANNOUNCE_INTERVAL`` seconds for ``MEMBER_TTL``; one that stops (killed,
its host gone, cut off from Redis) counts as gone once that lapses, as Node's adapters
count a server gone after its heartbeats stop; one that stops serving leaves at once.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis.asyncio

from sockd.worker.cluster.members import Member

ANNOUNCE_INTERVAL = 2.0
MEMBER_TTL = 6.0


def members_key(channel: str) -> str:
    return f"{channel}:sockd-members"


class RedisMembers:
    def __init__(self, client: redis.asyncio.Redis, channel: str, me: Member) -> None:
        self._client = client
        self._key = members_key(channel)
        self._me = me
        self._entry = json.dumps(me.to_json(), sort_keys=True)

    async def announce(self) -> None:
        """Renew this member's announcement, and drop the lapsed ones of others."""
        now_ms = time.time() * 1000
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.zadd(self._key, {self._entry: now_ms + MEMBER_TTL * 1000})
            pipe.zremrangebyscore(self._key, "-inf", now_ms)
            await pipe.execute()

    async def leave(self) -> None:
        await self._client.zrem(self._key, self._entry)

    async def others(self) -> list[Member]:
        """The other members whose announcement has not lapsed."""
        entries: list[Any] = await self._client.zrangebyscore(self._key, time.time() * 1000, "+inf")
        members = []
        for entry in entries:
            try:
                member = Member.from_json(json.loads(entry))
            except (ValueError, KeyError, TypeError):
                continue  # not a sockd member's entry
            if member.id != self._me.id:
                members.append(member)
        return members
