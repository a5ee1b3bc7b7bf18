"""An ack's text built as python-socketio encodes it, sent straight to a live session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from socketio import packet

from sockd.worker.hot_path.ack_text import AckText, ack_text
from sockd.worker.hot_path.direct_write import DirectWrite
from sockd.worker.hot_path.packet_json import json_packet_class

JSON_CLASS = json_packet_class(packet.Packet)


@pytest.mark.parametrize(
    ("namespace", "data"),
    [
        (None, []),
        ("/", ["x", 1, None, True]),
        ("/chat", [{"a": [1.5, "é", {"b": None}]}]),
        ("/", [float("nan")]),
    ],
)
def test_the_text_is_the_library_encoding(namespace: str | None, data: list[Any]) -> None:
    expected = JSON_CLASS(packet.ACK, namespace=namespace, id=7, data=data).encode()
    assert ack_text(JSON_CLASS, namespace, 7, data) == expected


def test_binary_data_an_unencodable_answer_and_other_json_take_the_library_path() -> None:
    assert ack_text(JSON_CLASS, "/", 1, ["a", {"b": b"x"}]) is None
    assert ack_text(JSON_CLASS, "/", 1, [object()]) is None
    assert ack_text(packet.Packet, "/", 1, ["a"]) is None  # the library's JSON module


class Session(DirectWrite):
    """A live session as the direct write's: what it was sent."""

    def __init__(self) -> None:
        self.closed = False
        self.sent: list[Any] = []

    async def send(self, pkt: Any) -> None:
        self.sent.append(pkt.encode())


class Server(AckText, socketio.AsyncServer):
    """Records what takes the library's path, at its end (the Engine.IO server's send)."""

    def __init__(self) -> None:
        super().__init__()
        self.packet_class = JSON_CLASS
        self.library: list[Any] = []

        async def send(eio_sid: str, data: Any) -> None:
            self.library.append(data)

        self.eio.send = send  # type: ignore[method-assign]


class AppServer(socketio.AsyncServer):
    """An app's server that sees every packet it sends (as a MODULE:ATTR app may bring)."""

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        self.library.append(pkt.encode())  # type: ignore[attr-defined]


class ServerOnTheApp(AckText, AppServer):
    def __init__(self) -> None:
        super().__init__()
        self.packet_class = JSON_CLASS
        self.library: list[Any] = []


def answer(
    result: Any, ack_id: int | None, session: Session | None, server_class: type = Server
) -> Any:
    server = server_class()
    if session is not None:
        server.eio.sockets["eio"] = session

    @server.on("ask")
    async def ask(sid: str) -> Any:
        return result

    internal = server._handle_event_internal(server, "sid", "eio", ["ask"], "/", ack_id)
    asyncio.run(internal)
    return server


def test_an_answer_goes_to_the_session_as_the_ack_text() -> None:
    session = Session()
    assert answer(("a", 2), 5, session).library == []
    assert session.sent == ['435["a",2]']


def test_binary_answers_missing_sessions_and_closed_ones_take_the_library_path() -> None:
    assert answer(b"x", 5, Session()).library == ['61-5[{"_placeholder":true,"num":0}]', b"x"]
    assert answer("a", 5, None).library == ['35["a"]']
    closed = Session()
    closed.closed = True
    assert answer("a", 5, closed).library == ['35["a"]'] and closed.sent == []


def test_no_ack_without_an_id() -> None:
    session = Session()
    assert answer("a", None, session).library == [] and session.sent == []


def test_an_apps_override_of_send_packet_gets_the_ack() -> None:
    session = Session()
    assert answer("a", 5, session, ServerOnTheApp).library == ['35["a"]']
    assert session.sent == []
