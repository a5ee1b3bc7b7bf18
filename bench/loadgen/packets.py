"""Engine.IO v4 / Socket.IO v5 text packets, default namespace only.

Engine.IO: ``0`` open, ``1`` close, ``2`` ping, ``3`` pong, ``4`` message, ``6`` noop; a
polling payload joins packets with ``\\x1e``. Socket.IO rides in ``4``: ``40`` connect,
``41`` disconnect, ``42[id][event, ...args]`` event, ``43id[...args]`` ack, ``44`` connect
error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

EIO_PATH = "/socket.io/?EIO=4&transport="
RECORD_SEPARATOR = "\x1e"
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def event(name: str, data: Any, ack_id: int | None = None) -> str:
    """A Socket.IO EVENT inside an Engine.IO MESSAGE; with ``ack_id`` the server acks it."""
    return f"42{'' if ack_id is None else ack_id}{_dumps([name, data])}"


@dataclass(slots=True)
class Incoming:
    """One parsed packet from the server; ``kind`` names it, the rest depends on the kind."""

    kind: str  # open | ping | connect | connect_error | event | ack | close | other
    ack_id: int = -1
    name: str = ""
    args: Any = None


def parse(text: str) -> Incoming:
    """Parse one Engine.IO packet (already split from its payload)."""
    eio = text[:1]
    if eio == "4":
        sio_type = text[1:2]
        if sio_type == "2":
            body = text[2:]
            start = body.index("[")
            array = json.loads(body[start:])
            ack = int(body[:start]) if start else -1
            return Incoming("event", ack, array[0], array[1:])
        if sio_type == "3":
            body = text[2:]
            start = body.index("[")
            return Incoming("ack", int(body[:start]), args=json.loads(body[start:]))
        if sio_type == "0":
            return Incoming("connect", args=json.loads(text[2:]) if len(text) > 2 else None)
        if sio_type == "4":
            return Incoming("connect_error", args=text[2:])
        if sio_type == "1":
            return Incoming("close")
        return Incoming("other", args=text)
    if eio == "2":
        return Incoming("ping", args=text[1:])
    if eio == "0":
        return Incoming("open", args=json.loads(text[1:]))
    if eio == "1":
        return Incoming("close")
    return Incoming("other", args=text)
