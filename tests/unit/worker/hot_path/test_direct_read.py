"""The WebSocket python-engineio reads: plain messages received inline, the rest returned."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from engineio import exceptions
from engineio.async_socket import AsyncSocket

from sockd.worker.hot_path.direct_read import InlineReads
from sockd.worker.protocol.client_close import ClientClose
from sockd.worker.protocol.packet_types import UnknownTypeCloses


class FakeWebSocket:
    def __init__(self, frames: list[Any]) -> None:
        self._frames = frames

    async def wait(self) -> Any:
        if not self._frames:
            raise OSError("closed")  # as engineio's ASGI WebSocket at websocket.disconnect
        return self._frames.pop(0)


class FakeServer:
    max_http_buffer_size = 10
    logger = logging.getLogger("tests.direct_read")


class FakeSession:
    """What InlineReads uses of a session: its state, server, and receive."""

    def __init__(self, *, upgraded: bool = True, closed_on: str | None = None) -> None:
        self.upgraded = upgraded
        self.upgrading = False
        self.server = FakeServer()
        self.received: list[Any] = []
        self._closed_on = closed_on

    async def receive(self, pkt: Any) -> None:
        if pkt.data == self._closed_on:
            raise exceptions.SocketIsClosedError()
        self.received.append(pkt.data)


def reads(frames: list[Any], session: FakeSession, calls: int) -> list[Any]:
    async def scenario() -> list[Any]:
        ws = InlineReads(FakeWebSocket(frames), session)  # type: ignore[arg-type]
        return [await ws.wait() for _ in range(calls)]

    return asyncio.run(scenario())


def test_plain_messages_are_received_inline_and_a_pong_goes_to_the_library() -> None:
    session = FakeSession()
    returned = reads(["4a", b"\x01", "4b", "3", "4c", "1"], session, 2)
    assert returned == ["3", "1"]
    assert session.received == ["a", b"\x01", "b", "c"]


def test_during_an_upgrade_every_message_goes_to_the_library() -> None:
    session = FakeSession(upgraded=False)
    assert reads(["2probe", "4a"], session, 2) == ["2probe", "4a"]
    assert session.received == []


def test_an_oversized_or_undecodable_message_goes_to_the_library() -> None:
    session = FakeSession()
    assert reads(["4" + "x" * 20, "abc"], session, 2) == ["4" + "x" * 20, "abc"]
    assert session.received == []


def test_a_closed_session_ends_the_library_loop() -> None:
    session = FakeSession(closed_on="b")
    assert reads(["4a", "4b", "4c"], session, 1) == [None]
    assert session.received == ["a"]


class Server:
    max_http_buffer_size = 100
    async_handlers = False
    logger = logging.getLogger("tests.direct_read.server")

    def __init__(self) -> None:
        self.triggered: list[tuple[Any, ...]] = []

    def create_queue(self) -> Any:
        return asyncio.Queue()

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> None:
        self.triggered.append((event, *args, kwargs))


class Session(ClientClose, UnknownTypeCloses, AsyncSocket):
    """sockd's receive mixins on the library's session: messages pass through."""


class OwnReceive(Session):
    async def receive(self, pkt: Any) -> None:
        await self.server._trigger_event("own", pkt.data)


def receive_all(session_class: type[AsyncSocket], frames: list[str]) -> list[Any]:
    server = Server()
    session = session_class(server, "sid")  # type: ignore[arg-type]
    session.upgraded = True
    with pytest.raises(OSError):  # every frame received inline, then the client is gone
        reads(frames, session, 1)  # type: ignore[arg-type]
    return server.triggered


def test_an_event_text_reaches_the_message_handler_as_receive_would_hand_it() -> None:
    frames = ['42["a"]', "431[1]", '42/chat,["b"]', '4{"x":1}']
    assert receive_all(Session, list(frames)) == [
        ("message", "sid", '2["a"]', {"run_async": False}),
        ("message", "sid", "31[1]", {"run_async": False}),
        ("message", "sid", '2/chat,["b"]', {"run_async": False}),
        ("message", "sid", {"x": 1}, {"run_async": False}),  # the library's JSON decoding
    ]
    assert receive_all(OwnReceive, ['42["a"]']) == [("own", '2["a"]', {})]
