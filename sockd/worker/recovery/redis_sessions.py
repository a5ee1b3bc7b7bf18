"""Recoverable sessions in Redis (``--redis``): one hash per session, written by its owner.

A session's hash holds its socket id, namespace, rooms and data (JSON), the stream id at
which it started, its owner (the worker holding it: the bus's ``host_id``), the worker
where it started, and, once lost, when and why. Every write is a script that checks the
owner, so a worker the session moved away from (its old transport timing out late) changes
nothing. An attached session lives ``window + refresh`` and its owner refreshes it every
``refresh`` seconds; a lost one lives ``window`` from its loss. Each worker also holds a
*lease* key, refreshed every few seconds: a session whose owner's lease is gone (its host
died) counts as lost since the owner last refreshed it, which its remaining TTL tells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sockd.worker.bus.redis_clients import BusClient

#: The lease of a worker lasts this long; it is refreshed three times as often.
LEASE_MS = 10_000

_WRITE = """
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
_END = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return nil end
if ARGV[2] == 'lost' and (redis.call('HGET', KEYS[1], 'lost') or '') == '' then
  return nil
end
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return fields
"""
_CLAIM = """
local s = redis.call('HGETALL', KEYS[1])
if #s == 0 then return {'refused', 'unknown session'} end
local f = {}
for i = 1, #s, 2 do f[s[i]] = s[i + 1] end
if f['ns'] ~= ARGV[2] then return {'refused', 'a session of another namespace'} end
local expired = false
if (f['lost'] or '') ~= '' then
  expired = tonumber(ARGV[3]) - tonumber(f['lost']) > tonumber(ARGV[4])
elseif redis.call('EXISTS', ARGV[6] .. f['owner']) == 0 then
  expired = redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5])
end
if expired then
  redis.call('DEL', KEYS[1])
  table.insert(s, 1, 'expired')
  return s
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lost', '', 'reason', '')
redis.call('PEXPIRE', KEYS[1], ARGV[7])
table.insert(s, 1, 'claimed')
return s
"""


@dataclass(frozen=True)
class Claim:
    """What claiming a session found: ``claimed`` (now this worker's), ``expired`` (now
    deleted), or ``refused``; with the session's fields as they were."""

    outcome: str
    fields: dict[str, str]
    reason: str = ""


class RedisSessions:
    def __init__(
        self, client: BusClient, prefix: str, me: str, window: float, refresh: float
    ) -> None:
        self._client = client
        self._prefix = prefix
        self.me = me
        self._window_ms = int(window * 1000)
        self._refresh_ms = int(refresh * 1000)
        self._write = client.register_script(_WRITE)
        self._end = client.register_script(_END)
        self._claim = client.register_script(_CLAIM)

    def key(self, pid: str) -> str:
        return f"{self._prefix}s:{pid}"

    @property
    def lease_key(self) -> str:
        return f"{self._prefix}w:{self.me}"

    @property
    def attached_ttl_ms(self) -> int:
        return self._window_ms + self._refresh_ms

    async def write(self, pid: str, fields: dict[str, str], ttl_ms: int | None = None) -> bool:
        """Set ``fields`` of session ``pid`` if it is this worker's (or new)."""
        flat = [item for pair in fields.items() for item in pair]
        ttl = self.attached_ttl_ms if ttl_ms is None else ttl_ms
        return bool(await self._write(keys=[self.key(pid)], args=[self.me, ttl, *flat]))

    async def lost(self, pid: str, reason: str, now_ms: int) -> bool:
        fields = {"lost": str(now_ms), "reason": reason}
        return await self.write(pid, fields, ttl_ms=self._window_ms)

    async def end(self, pid: str, only_if_lost: bool = False) -> dict[str, str] | None:
        """Delete session ``pid`` if it is this worker's (and lost, if asked); its fields."""
        condition = "lost" if only_if_lost else ""
        found = await self._end(keys=[self.key(pid)], args=[self.me, condition])
        return _pairs(found) if found else None

    async def claim(self, pid: str, namespace: str, now_ms: int) -> Claim:
        lease = f"{self._prefix}w:"
        args: list[str | int] = [self.me, namespace, now_ms, self._window_ms, self._refresh_ms,
                                 lease, self.attached_ttl_ms]  # fmt: skip
        found = [_text(item) for item in await self._claim(keys=[self.key(pid)], args=args)]
        if found[0] == "refused":
            return Claim("refused", {}, found[1])
        return Claim(found[0], _pairs(found[1:]))

    async def refresh(self, pids: list[str]) -> None:
        """Keep this worker's lease, and its attached sessions, alive."""
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.set(self.lease_key, "1", px=LEASE_MS)
            for pid in pids:
                pipe.pexpire(self.key(pid), self.attached_ttl_ms)
            await pipe.execute()

    async def lease_held(self, owner: str) -> bool:
        return bool(await self._client.exists(f"{self._prefix}w:{owner}"))


def _text(item: Any) -> str:
    return item.decode() if isinstance(item, bytes) else str(item)


def _pairs(flat: list[Any]) -> dict[str, str]:
    items = [_text(item) for item in flat]
    return dict(zip(items[::2], items[1::2], strict=True))
