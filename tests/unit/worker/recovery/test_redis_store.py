"""The Redis store's own logic, on a store whose Redis side is a stand-in that records what
it is asked and answers after a few loop turns: what its session writes carry, and how many
of its operations use the client at once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sockd.config.io import RecoverySettings
from sockd.worker.bus.redis_clients import MAX_CONNECTIONS
from sockd.worker.recovery.redis_sessions import Claim
from sockd.worker.recovery.redis_store import RedisStore
from sockd.worker.recovery.store import Restored
from tests.unit.worker.recovery.inprocess import run, until

PID = "pid-1"


class Bus:
    """What the store reads of its bus; no connection is ever made."""

    channel = "socketio"
    host_id = "me"
    last_id = b"1-0"
    stream = "socketio:stream"


class Sessions:
    """Stands in for ``RedisSessions``: each call takes a few loop turns, as a round trip
    does, and is counted while it runs."""

    me = "me"

    def __init__(self) -> None:
        self.writes: list[tuple[str, dict[str, str]]] = []
        self.running = 0
        self.most_at_once = 0

    async def _round_trip(self) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        for _ in range(3):
            await asyncio.sleep(0)
        self.running -= 1

    async def write(self, pid: str, fields: dict[str, str], ttl_ms: int | None = None) -> bool:
        await self._round_trip()
        self.writes.append((pid, fields))
        return True

    async def lost(self, pid: str, reason: str, now_ms: int) -> bool:
        return await self.write(pid, {"lost": str(now_ms), "reason": reason})

    async def claim(self, pid: str, namespace: str, now_ms: int) -> Claim:
        await self._round_trip()
        return Claim("refused", {}, "unknown session")


class Target:
    def register(self, restored: Restored) -> str | None:
        raise AssertionError("a refused claim registers nothing")

    def finish(self, missed: list[Any], position: Any) -> bool:
        raise AssertionError("a refused claim finishes nothing")

    def abandon(self) -> None:
        pass


def store_with(sessions: Sessions) -> RedisStore:
    settings = RecoverySettings(max_disconnection_duration=30.0)
    store = RedisStore(Bus(), "redis://127.0.0.1:1/0", settings)  # type: ignore[arg-type]
    store.sessions = sessions  # type: ignore[assignment]
    return store


def test_writes_queued_before_a_loss_keep_the_rooms_they_were_queued_with() -> None:
    """A session lost while its writes still wait (this worker then forgets its state) is
    written with its rooms, not with none: a restore reads them."""

    async def scenario() -> None:
        sessions = Sessions()
        store = store_with(sessions)
        store.opened(PID, "sid-1", "/", [], None, "1-0")
        store.joined(PID, "r")
        store.lost(PID, "transport close")
        await until(lambda: len(sessions.writes) == 3)
        store.forget(PID)  # its expiry timer
        rooms = [json.loads(fields["rooms"]) for _, fields in sessions.writes if "rooms" in fields]
        assert rooms == [["sid-1"], ["r", "sid-1"]]
        assert sessions.writes[-1][1]["reason"] == "transport close"

    run(scenario)


def test_restores_at_once_take_turns_on_the_clients_connections() -> None:
    """More restores at once than the client has connections: a pool out of connections
    fails a command at once, so no more of them run at a time than it has."""

    async def scenario() -> None:
        sessions = Sessions()
        store = store_with(sessions)
        claims = [
            store.restore(f"pid-{n}", "/", None, Target()) for n in range(3 * MAX_CONNECTIONS)
        ]
        assert await asyncio.gather(*claims) == [None] * (3 * MAX_CONNECTIONS)
        assert sessions.most_at_once == MAX_CONNECTIONS

    run(scenario)
