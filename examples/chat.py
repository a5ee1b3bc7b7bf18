"""A small Socket.IO chat, the example app of the README.

Run it on four sticky workers with::

    sockd start examples.chat:sio --workers 4 --sticky --port 7001

Clients ``join`` a room (the ack names the room) and ``say`` something to it; everyone in the
room, on any worker, receives a ``message`` event. The ack of ``say`` is ``True``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import socketio

log = logging.getLogger("examples.chat")

# async_mode="asgi" always: with aiohttp installed python-socketio would pick another mode.
sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")


def _client_address(environ: dict[str, Any]) -> str:
    """The peer address as the ASGI server saw it (REMOTE_ADDR is fixed in ASGI mode)."""
    client = environ.get("asgi.scope", {}).get("client")
    return str(client[0]) if client else str(environ.get("REMOTE_ADDR", "?"))


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    """Log who arrived and on which worker."""
    log.info("connect sid=%s from %s (worker pid %d)", sid, _client_address(environ), os.getpid())


@sio.event
async def disconnect(sid: str, reason: Any = None) -> None:
    """Log who left and why."""
    log.info("disconnect sid=%s reason=%s", sid, reason)


@sio.event
async def join(sid: str, room: str) -> dict[str, str]:
    """Enter ``room``; the ack tells the client which room it is in."""
    if not isinstance(room, str) or not room:
        return {"error": "room must be a non-empty string"}
    await sio.enter_room(sid, room)
    return {"room": room}


@sio.event
async def say(sid: str, data: dict[str, Any]) -> bool:
    """Send ``data["text"]`` to everyone in ``data["room"]``, the sender included."""
    room = data.get("room") if isinstance(data, dict) else None
    text = data.get("text") if isinstance(data, dict) else None
    if not isinstance(room, str) or not isinstance(text, str):
        return False
    await sio.emit("message", {"room": room, "text": text, "from": sid}, to=room)
    return True
