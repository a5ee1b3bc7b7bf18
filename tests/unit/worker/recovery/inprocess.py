"""A recovering python-socketio server in-process, and a store that records what it is told.

sockd's compat list and the recovering manager on a real server; WebSockets as ASGI events
(tests/unit/worker/asgi_driver.py); waits are loop turns, never the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import socketio

from sockd.worker.compat.install import AsyncServer, CompatConfig, install
from sockd.worker.recovery.attempts import new_pid
from sockd.worker.recovery.delivery import Packets
from sockd.worker.recovery.manager import RecoveringManager
from sockd.worker.recovery.store import PutBack, Restored
from tests.unit.worker.asgi_driver import WebSocket

PID = new_pid()


class RecordingStore:
    """Records every note; answers a restore with ``answer`` (None: unknown session)."""

    def __init__(self) -> None:
        self.position: str | None = "p-7"
        self.notes: list[tuple[Any, ...]] = []
        self.answer: tuple[Restored, list[Packets]] | None = None

    async def sequence(
        self, namespace: str, rooms: Sequence[Any] | None, excluded: Sequence[str], text: str,
        attachments: Sequence[bytes],
    ) -> None:  # fmt: skip
        self.notes.append(("sequence", namespace, rooms, list(excluded), text))

    def opened(self, *args: Any) -> None:
        self.notes.append(("opened", *args))

    def joined(self, pid: str, room: Any) -> None:
        self.notes.append(("joined", pid, room))

    def left(self, pid: str, room: Any) -> None:
        self.notes.append(("left", pid, room))

    def saved(self, pid: str, data: Any) -> None:
        self.notes.append(("saved", pid, data))

    def lost(self, pid: str, reason: str) -> None:
        self.notes.append(("lost", pid, reason))

    def ended(self, pid: str) -> None:
        self.notes.append(("ended", pid))

    async def restore(
        self, pid: str, namespace: str, offset: str | None, target: PutBack
    ) -> str | None:
        self.notes.append(("restore", pid, namespace, offset))
        if self.answer is None:
            return None
        restored, missed = self.answer
        sid = target.register(restored)
        if sid is not None:
            target.finish(missed, None)
        return sid


class Harness:
    def __init__(self) -> None:
        self.sio = AsyncServer(async_mode="asgi", monitor_clients=False)
        install(self.sio, CompatConfig())
        self.store = RecordingStore()
        self.manager = RecoveringManager()
        self.manager.use_store(self.store)
        self.sio.manager = self.manager
        self.manager.set_server(self.sio)
        self.app = socketio.ASGIApp(self.sio)
        self.seen: list[tuple[str, Any, Any]] = []

        @self.sio.event
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
            self.seen.append((sid, environ.get("sockd.recovered"), auth))

        @self.sio.event
        async def join(sid: str, room: str) -> None:
            await self.sio.enter_room(sid, room)

    async def connect(self, claim: str = "") -> tuple[WebSocket, list[str]]:
        """A WebSocket that sent ``40`` + ``claim``: the frames up to the CONNECT reply."""
        ws = WebSocket(self.app)
        assert await ws.accepted()
        assert (await ws.receive() or "").startswith("0")
        ws.send("40" + claim)
        frames = []
        while not frames or not frames[-1].startswith("40"):
            frame = await ws.receive()
            assert frame is not None
            frames.append(frame)
        return ws, frames


def run(scenario: Any) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 10))


async def until(predicate: Any, turns: int = 500) -> None:
    """Let the loop turn (no clock waits) until ``predicate()`` holds."""
    for _ in range(turns):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")
