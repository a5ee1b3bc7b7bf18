"""A malformed Socket.IO packet closes the connection.

Spec (and the reference parser, socket.io-parser): a packet of an unknown type, with a
payload of the wrong shape (an EVENT is a non-empty array whose first element is the event
name, not a reserved one; an ACK is an array; CONNECT an object; DISCONNECT nothing) or
that does not parse (``42abc[...]``) is a protocol error, and the server closes the
Engine.IO connection. python-socketio (5.16-5.18) logs such a packet's exception (its Engine.IO
message handler swallows it) and keeps the connection, and it dispatches an event named
``connect`` to the app's connect handler. A binary packet announcing no attachments would
make it treat every later message as an attachment. A CONNECT_ERROR from a client (only
servers send it; Node's server ignores it) makes python-socketio raise a ``ValueError``,
logged with its traceback for each such packet: here it is malformed too.
"""

from __future__ import annotations

from typing import Any

import socketio
from socketio import packet

from sockd.worker.hosting import client_errors
from sockd.worker.protocol.closing import fail_session
from sockd.worker.protocol.json_depth import deeper_than

#: Event names a client may not emit (socket.io-parser's RESERVED_EVENTS).
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class MalformedPacket(ValueError):
    """A Socket.IO packet from a client that the protocol does not allow."""


def payload_problem(kind: int, data: Any, attachments: int) -> str | None:
    """What is wrong with a decoded packet's type and payload, or None."""
    if kind == packet.CONNECT:
        valid = data is None or isinstance(data, dict)
    elif kind == packet.DISCONNECT:
        valid = data is None
    elif kind == packet.CONNECT_ERROR:
        return "a CONNECT_ERROR packet, which only a server sends"
    elif kind in (packet.EVENT, packet.BINARY_EVENT):
        valid = isinstance(data, list) and bool(data) and _valid_event_name(data[0])
    elif kind in (packet.ACK, packet.BINARY_ACK):
        valid = isinstance(data, list)
    else:
        return f"unknown packet type {kind!r}"
    if not valid:
        return f"invalid payload for a {packet.packet_names[kind]} packet"
    if kind in (packet.BINARY_EVENT, packet.BINARY_ACK) and attachments < 1:
        return "a binary packet without attachments"
    return None


def _valid_event_name(name: Any) -> bool:
    if isinstance(name, str):
        return name not in RESERVED_EVENTS
    return isinstance(name, int) and not isinstance(name, bool)


def strict_packet_class(base: type[packet.Packet]) -> type[packet.Packet]:
    """``base`` (the server's serializer) raising :class:`MalformedPacket` on bad input."""

    class StrictPacket(base):
        #: ``--max-json-depth`` (set by the compat layer): see json_depth.py.
        max_json_depth = 100

        def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
            # The library decodes only non-empty input; an empty message is no packet.
            if encoded_packet is not None and len(encoded_packet) == 0:
                raise MalformedPacket("empty packet")
            super().__init__(*args, encoded_packet=encoded_packet, **kwargs)

        def decode(self, encoded_packet: Any) -> int:
            if isinstance(encoded_packet, str):
                limit = self.max_json_depth  # checked inline: this runs for every packet
                if encoded_packet.count("[") + encoded_packet.count("{") > limit and deeper_than(
                    encoded_packet, limit
                ):
                    raise MalformedPacket(f"nested more than {limit} levels deep")
            elif self.uses_binary_events:
                raise MalformedPacket("binary data where a packet was expected")
            try:
                attachments = super().decode(encoded_packet) or 0
            except Exception as exc:
                raise MalformedPacket(f"undecodable packet: {exc}") from exc
            problem = payload_problem(self.packet_type, self.data, attachments)
            if problem is not None:
                raise MalformedPacket(problem)
            return attachments

    StrictPacket.__name__ = StrictPacket.__qualname__ = f"Strict{base.__name__}"
    return StrictPacket


class MalformedPacketCloses(socketio.AsyncServer):
    """Closes the Engine.IO session of a client that sent a packet the strict packet class
    (:func:`strict_packet_class`, the server's serializer) refused.

    Only :class:`MalformedPacket` (from decoding) closes: an exception of an app handler
    is not the client's protocol error.
    """

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> Any:
        try:
            return await super()._handle_eio_message(eio_sid, data)
        except MalformedPacket as exc:
            client_errors.note("closed: malformed Socket.IO packet", f"{eio_sid}: {exc}")
            socket = self.eio.sockets.get(eio_sid)
            if socket is not None:
                await fail_session(socket)
            return None
