"""Plain text events decoded without a packet object, as the strict packet class would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from socketio import packet

from sockd.worker.hot_path.packet_json import json_packet_class
from sockd.worker.hot_path.plain_events import PlainEvents, plain_event_class
from sockd.worker.protocol.malformed_packets import MalformedPacket, strict_packet_class

STRICT = strict_packet_class(json_packet_class(packet.Packet))
FAST: Any = plain_event_class(STRICT)

MESSAGES = [
    '2["echo","x"]',
    '27["echo",{"a":[1,2,{"b":null}]}]',
    '2007["echo"]',
    "2" + "9" * 100 + '["echo"]',
    "2" + "9" * 101 + '["echo"]',
    '2[1,"x"]',
    '2["connect"]',
    '2["disconnect",1]',
    "2[]",
    '2{"a":1}',
    '2"echo"',
    "2",
    '2["echo"]x',
    '2["echo",]',
    '2/chat,["echo"]',
    '2/chat,3["echo"]',
    '21-["echo",{"_placeholder":true,"num":0}]',
    '2٣["echo"]',
    "2" + "[" * 101 + "]" * 101,
    '2["echo",' + "[" * 99 + "]" * 99 + "]",
    '2["echo","' + "[" * 200 + '"]',
    "2[true]",
    '2["echo",1' + "0" * 200 + "]",
]


def strict_decode(text: str) -> tuple[Any, ...] | None:
    """What the strict class decodes ``text`` to, or None if it refuses it."""
    try:
        pkt = STRICT(encoded_packet=text)
    except MalformedPacket:
        return None
    return pkt.packet_type, pkt.namespace, pkt.id, pkt.data, pkt.attachment_count


@pytest.mark.parametrize("text", MESSAGES)
def test_a_decoded_event_is_what_the_strict_class_decodes(text: str) -> None:
    event = FAST.decode_event(text)
    if event is not None:
        assert strict_decode(text) == (packet.EVENT, None, event[0], event[1], 0)


def test_the_common_events_are_decoded() -> None:
    assert FAST.decode_event('2["echo","x"]') == (None, ["echo", "x"])
    assert FAST.decode_event('27["echo",{"a":1}]') == (7, ["echo", {"a": 1}])
    assert FAST.decode_event("2" + "9" * 100 + '["echo"]') == (int("9" * 100), ["echo"])


@pytest.mark.parametrize(
    "data",
    [None, "x", 1, [], ["a", [1, {"b": [None]}]], [b"x"], ["a", {"b": [bytearray(1)]}], {"a": b""}],
)
def test_binary_data_is_found_as_the_library_finds_it(data: Any) -> None:
    assert FAST.data_is_binary(data) == packet.Packet.data_is_binary(data)


def test_a_class_that_decodes_in_its_own_way_is_kept() -> None:
    class Own(STRICT):  # type: ignore[misc, valid-type]
        def decode(self, encoded_packet: Any) -> int:
            return super().decode(encoded_packet)

    assert plain_event_class(Own) is Own


class Server(PlainEvents, socketio.AsyncServer):
    def __init__(self) -> None:
        super().__init__()
        self.packet_class = FAST
        self.handled: list[tuple[Any, ...]] = []

    async def _handle_event(self, *args: Any) -> None:
        self.handled.append(args)


def test_the_server_handles_a_plain_event_as_the_library_would() -> None:
    server = Server()
    library = Server()
    library.packet_class = STRICT  # no decode_event: the library's path

    async def scenario() -> None:
        for text in ('23["echo",1]', '2["echo"]', '2/chat,["echo"]'):
            await server._handle_eio_message("eio", text)
            await library._handle_eio_message("eio", text)

    asyncio.run(scenario())
    assert (
        server.handled
        == library.handled
        == [
            ("eio", None, 3, ["echo", 1]),
            ("eio", None, None, ["echo"]),
            ("eio", "/chat", None, ["echo"]),
        ]
    )
