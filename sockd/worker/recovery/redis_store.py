"""The store over Redis (``--redis``, the Streams bus): the stream numbers stored packets, the
sessions live in Redis (``redis_sessions.py``), and the stream is the log a restore reads.

Session writes go out in order, one at a time, never awaited by the app (a bounded queue:
Redis may be away), each with the state it was queued with: one still queued when its
session is lost (whose state this worker then forgets) must not write its rooms empty.
Whoever holds a session when it is lost arms a timer for the end of its window: if the
session is still lost and still its own then, it ends it, and the app's hooks run there.
A worker the session moved away from hears so over the bus, as does the worker where it
started when it ends elsewhere.

Each store operation (a write, a restore, an expiry, a refresh) uses one of the client's
few connections at a time, and no more operations run at once than it has: the rest wait
their turn. A pool that is out of connections fails a command at once ("Too many
connections"), which made the clients of a dead host, recovering at once on one worker,
fresh sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from sockd.config.io import RecoverySettings
from sockd.worker.bus.redis_clients import MAX_CONNECTIONS, bus_client
from sockd.worker.recovery.redis_replay import Replay, Session, replay, stream_order, valid_id
from sockd.worker.recovery.redis_sessions import LEASE_MS, RedisSessions
from sockd.worker.recovery.store import PutBack, Restored

if TYPE_CHECKING:
    from sockd.worker.recovery.streams_bus import RecoveringStreamsBus

log = logging.getLogger("sockd.recovery")

#: Seconds one Redis command of the store may take.
COMMAND_TIMEOUT = 3.0
#: Session writes kept while Redis is away; past it they are dropped, and counted.
MAX_WRITES = 100_000


def refresh_interval(window: float) -> float:
    """How often an owner refreshes its attached sessions (a host that dies loses at most
    this much of their window)."""
    return min(30.0, max(3.0, window / 4))


class RedisStore:
    def __init__(self, bus: RecoveringStreamsBus, url: str, settings: RecoverySettings) -> None:
        assert settings.max_disconnection_duration is not None
        self._bus = bus
        self._window = settings.max_disconnection_duration
        self._max_missed = settings.max_missed_packets
        self._client = bus_client(url, COMMAND_TIMEOUT)
        self._turns = asyncio.Semaphore(MAX_CONNECTIONS)
        prefix = f"{bus.channel}:recovery:"
        self.sessions = RedisSessions(
            self._client, prefix, bus.host_id, self._window, refresh_interval(self._window)
        )
        self._mirror: dict[str, dict[str, Any]] = {}  # pid -> rooms and data, as written
        self._writes: deque[Callable[[], Awaitable[Any]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.dropped = 0

    @property
    def position(self) -> str | None:
        last = self._bus.last_id
        return last.decode() if last else None

    @position.setter
    def position(self, value: str | None) -> None:
        """The reader keeps it (``last_id``)."""

    async def sequence(
        self, namespace: str, rooms: Sequence[Any] | None, excluded: Sequence[str], text: str,
        attachments: Sequence[bytes],
    ) -> None:  # fmt: skip
        await self._bus.publish_stored(namespace, rooms, excluded, text, attachments)

    # -- notes, written through in order ---------------------------------------------------

    def opened(
        self, pid: str, sid: str, namespace: str, rooms: list[Any], data: Any, start: str | None
    ) -> None:
        self._mirror[pid] = {"rooms": set(rooms) | {sid}, "data": data}
        fields = {"sid": sid, "ns": namespace, "owner": self.sessions.me,
                  "origin": self.sessions.me, "lost": "", "reason": "",
                  **self._state(pid)}  # fmt: skip

        async def write() -> None:
            # Before the reader read anything, the session starts where the stream is now.
            begin = start or await self._bus.stream_end(self._client)
            await self.sessions.write(pid, {**fields, "start": begin})

        self._queue(write)

    def joined(self, pid: str, room: Any) -> None:
        self._change(pid, lambda mirror: mirror["rooms"].add(room))

    def left(self, pid: str, room: Any) -> None:
        self._change(pid, lambda mirror: mirror["rooms"].discard(room))

    def saved(self, pid: str, data: Any) -> None:
        self._change(pid, lambda mirror: mirror.__setitem__("data", data))

    def lost(self, pid: str, reason: str) -> None:
        self._mirror.pop(pid, None)
        now_ms = int(time.time() * 1000)
        self._queue(lambda: self.sessions.lost(pid, reason, now_ms))
        loop = asyncio.get_running_loop()
        self._timers[pid] = loop.call_later(self._window + 1.0, self._expire_soon, pid)

    def ended(self, pid: str) -> None:
        self._mirror.pop(pid, None)
        self._queue(lambda: self._end(pid))

    async def _end(self, pid: str) -> None:
        fields = await self.sessions.end(pid)
        if fields is not None and fields.get("origin") != self.sessions.me:
            await self._bus.tell(fields["origin"], "ended", _notice(fields, hooks=False))

    async def _expire(self, pid: str) -> None:
        """The window of a session lost here ran out: if it is still lost and ours, it ends."""
        self._timers.pop(pid, None)
        async with self._turns:
            fields = await self.sessions.end(pid, only_if_lost=True)
            if fields is not None:
                await self._gone(fields)

    async def _gone(self, fields: dict[str, str]) -> None:
        """A lost session ended for good: its last owner runs the hooks (this worker when
        that one is gone), and the worker where it started hears."""
        runner = fields.get("owner", "")
        if runner != self.sessions.me and not await self.sessions.lease_held(runner):
            runner = self.sessions.me
        if runner == self.sessions.me:
            self._bus.session_ended(_notice(fields, hooks=True))
        else:
            await self._bus.tell(runner, "ended", _notice(fields, hooks=True))
        origin = fields.get("origin", "")
        if origin != runner:
            await self._bus.tell(origin, "ended", _notice(fields, hooks=False))

    def forget(self, pid: str) -> None:
        """The session moved to another worker: no timer for it here."""
        timer = self._timers.pop(pid, None)
        if timer is not None:
            timer.cancel()

    def _change(self, pid: str, change: Callable[[dict[str, Any]], Any]) -> None:
        mirror = self._mirror.get(pid)
        if mirror is not None:
            change(mirror)
            state = self._state(pid)  # now: once lost, the mirror is gone
            self._queue(lambda: self.sessions.write(pid, state))

    def _state(self, pid: str) -> dict[str, str]:
        mirror = self._mirror.get(pid, {"rooms": set(), "data": None})
        return {"rooms": _json(sorted(mirror["rooms"], key=str)), "data": _json(mirror["data"])}

    def _queue(self, write: Callable[[], Awaitable[Any]]) -> None:
        if len(self._writes) >= MAX_WRITES:
            self.dropped += 1
            return
        self._writes.append(write)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())

    async def _write_all(self) -> None:
        while self._writes:
            write = self._writes.popleft()
            try:
                async with self._turns:
                    await write()
            except (RedisError, OSError) as exc:
                self.dropped += 1
                log.warning("recovery: a session write to Redis failed: %s", exc)

    # -- restoring -------------------------------------------------------------------------

    async def restore(
        self, pid: str, namespace: str, offset: str | None, target: PutBack
    ) -> str | None:
        try:
            return await asyncio.wait_for(
                self._restore_in_turn(pid, namespace, offset, target), 5.0
            )
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("recovery: cannot restore a session from Redis now: %s", exc)
            target.abandon()  # a fresh session; the claimed one stays lost, to try again
            self.lost(pid, "transport close")
            return None

    async def _restore_in_turn(
        self, pid: str, namespace: str, offset: str | None, target: PutBack
    ) -> str | None:
        async with self._turns:
            return await self._restore(pid, namespace, offset, target)

    async def _restore(
        self, pid: str, namespace: str, offset: str | None, target: PutBack
    ) -> str | None:
        claim = await self.sessions.claim(pid, namespace, int(time.time() * 1000))
        if claim.outcome == "refused":
            return None
        if claim.outcome == "expired":
            await self._gone(claim.fields)
            return None
        fields = claim.fields
        previous = fields.get("owner", "")
        if previous != self.sessions.me:
            moved = {"namespace": namespace, "sid": fields["sid"], "pid": pid}
            await self._bus.tell(previous, "detach", moved)
        self.forget(pid)
        after = offset if offset is not None else fields.get("start", "0-0")
        if offset is not None and not valid_id(offset):
            return await self._refuse(pid, fields)
        rooms = _loads(fields.get("rooms"), [])
        session = Session(namespace, fields["sid"], frozenset(rooms) | {fields["sid"]})
        if stream_order(after) < stream_order(fields.get("start") or "0-0"):
            after = fields["start"]  # never before the session began
        sid = target.register(Restored(fields["sid"], rooms, _loads(fields.get("data"), None)))
        if sid is None:
            return None
        found = await replay(self._client, self._bus.stream, session, after, self._max_missed)
        if not isinstance(found, Replay) or not target.finish(
            found.missed, stream_order(found.position)
        ):
            target.abandon()
            log.debug("recovery: session %s not restored: %s", pid, found)
            return await self._refuse(pid, fields)
        self._mirror[pid] = {"rooms": set(session.rooms), "data": _loads(fields.get("data"), None)}
        return sid

    async def _refuse(self, pid: str, fields: dict[str, str]) -> str | None:
        """The client came back but cannot have its session: it ends now."""
        ended = await self.sessions.end(pid)
        if ended is not None:
            await self._gone({**ended, "owner": fields.get("owner", "")})
        return None

    # -- keeping alive ---------------------------------------------------------------------

    async def keep_alive(self) -> None:
        """The lease of this worker and the TTL of its attached sessions, for its life."""
        lease, refresh = LEASE_MS / 3000, refresh_interval(self._window)
        next_refresh = 0.0
        while True:
            now = time.monotonic()
            pids = list(self._mirror) if now >= next_refresh else []
            with contextlib.suppress(RedisError, OSError):
                async with self._turns:
                    await self.sessions.refresh(pids)
                if pids:
                    next_refresh = now + refresh
            await asyncio.sleep(lease)

    def _expire_soon(self, pid: str) -> None:
        """The window of ``pid`` passed (the coroutine is made only now, so a cancelled
        timer leaves none behind unawaited)."""
        self._spawn(self._expire(pid))

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _notice(fields: dict[str, str], hooks: bool) -> dict[str, Any]:
    return {
        "namespace": fields.get("ns", "/"), "sid": fields.get("sid", ""),
        "reason": fields.get("reason") or "transport close",
        "rooms": _loads(fields.get("rooms"), []), "data": _loads(fields.get("data"), None),
        "hooks": hooks,
    }  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default
