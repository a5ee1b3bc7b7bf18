"""A Socket.IO connection over a raw WebSocket for the recovery tests: what came before its
CONNECT reply (the missed events of a recovery), the reply, and the events after it."""

from __future__ import annotations

import json
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.e2e.protocol_wire import Wire, open_packet, receive


class Session:
    """A Socket.IO connection over a raw WebSocket: what came before its CONNECT reply,
    the reply, and the events after it."""

    def __init__(self, ws: ClientConnection, early: list[str], reply: dict[str, Any]) -> None:
        self.ws = ws
        self.early = early
        self.reply = reply
        self.acks = 0
        self.joined: set[str] = set()

    @property
    def sid(self) -> str:
        return str(self.reply["sid"])

    @property
    def pid(self) -> str:
        return str(self.reply["pid"])

    async def call(self, event: str, *args: Any) -> tuple[Any, list[str]]:
        """An event with an ack id: its answer, and the frames that came before it."""
        self.acks += 1
        await self.ws.send(f"42{self.acks}" + json.dumps([event, *args]))
        before = []
        while True:
            frame = await receive(self.ws)
            assert isinstance(frame, str)
            if frame.startswith(f"43{self.acks}["):
                return json.loads(frame[len(f"43{self.acks}") :]), before
            if frame != "2":
                before.append(frame)

    async def events(self, count: int) -> list[list[Any]]:
        """The next ``count`` events (pings answered)."""
        found: list[list[Any]] = []
        while len(found) < count:
            frame = await receive(self.ws)
            if frame == "2":
                await self.ws.send("3")
            elif isinstance(frame, str) and frame.startswith("42"):
                found.append(json.loads(frame[2:]))
        return found


async def connect(wire: Wire, auth: dict[str, Any] | None = None) -> Session:
    ws = await wire.websocket()
    open_packet(await receive(ws))
    await ws.send("40" + (json.dumps(auth) if auth is not None else ""))
    early = []
    while True:
        frame = await receive(ws)
        assert isinstance(frame, str), frame
        if frame.startswith("40"):
            return Session(ws, early, json.loads(frame[2:]))
        assert not frame.startswith("44"), f"refused: {frame}"
        early.append(frame)


def event(frame: str) -> list[Any]:
    assert frame.startswith("42"), frame
    data = json.loads(frame[2:])
    assert isinstance(data, list)
    return data


async def say(speaker: Session, n: int, room: str = "r") -> None:
    """Broadcast ``n`` to ``room`` and return once the speaker has its own copy.

    The ack alone comes before the cluster has numbered the packet (the emit is on its way
    to the master or the stream), so a connect or a restore the test starts next could be
    ordered before it; the speaker's copy is sent only after it was numbered.
    """
    if room not in speaker.joined:
        await speaker.call("join", room)
        speaker.joined.add(room)
    message = {"room": room, "n": n}
    _, before = await speaker.call("say", message)
    heard = [event(frame)[:2] for frame in before if frame.startswith("42")]
    while ["said", message] not in heard:
        heard += [found[:2] for found in await speaker.events(1)]
