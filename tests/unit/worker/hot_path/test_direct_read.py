"""The WebSocket python-engineio reads: plain messages received inline, the rest returned."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from engineio import exceptions

from sockd.worker.hot_path.direct_read import InlineReads


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
