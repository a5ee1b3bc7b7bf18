"""A plain python-socketio app for the recovery tests (run with recovery on).

Rooms and broadcasts (``join``, ``say``), a socket's saved data (``remember``), and what the
app saw of each socket: whether its last connect was a recovery, the auth it received, and
how many connects and disconnects its id had on this worker (``whoami``).
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import socketio

from tests.apps.ops_app import plain_http

sio = socketio.AsyncServer(async_mode="asgi")
#: ``GET /pid`` answers with the worker's pid, as in the operations tests.
app = socketio.ASGIApp(sio, other_asgi_app=plain_http)

connects: Counter[str] = Counter()
disconnects: Counter[str] = Counter()
#: Per socket id, each disconnect: whether sockd took it for a recoverable loss.
losses: dict[str, list[bool]] = {}
recovered: dict[str, bool] = {}
auths: dict[str, Any] = {}


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    connects[sid] += 1
    recovered[sid] = environ.get("sockd.recovered", False)
    auths[sid] = auth


@sio.event
async def disconnect(sid: str, reason: Any = None) -> None:
    disconnects[sid] += 1
    is_loss = getattr(sio.manager, "is_loss", None)
    losses.setdefault(sid, []).append(bool(is_loss and is_loss(sid, "/")))


@sio.event
async def history(sid: str, other: str) -> list[bool]:
    """Socket ``other``'s disconnects on this worker: True for each loss (not an end)."""
    return losses.get(other, [])


@sio.event
async def join(sid: str, room: str) -> dict[str, Any]:
    await sio.enter_room(sid, room)
    return {"sid": sid, "worker": os.getpid()}


@sio.event
async def leave(sid: str, room: str) -> bool:
    await sio.leave_room(sid, room)
    return True


@sio.event
async def say(sid: str, message: dict[str, Any]) -> None:
    """Broadcast ``message`` as ``said`` to its room (the sender too, if it is in it)."""
    await sio.emit("said", message, to=message["room"])


@sio.event
async def tell(sid: str, message: dict[str, Any]) -> None:
    """Emit ``message`` as ``told`` to one socket (``message["to"]``)."""
    await sio.emit("told", message, to=message["to"])


@sio.event
async def remember(sid: str, value: Any) -> bool:
    async with sio.session(sid) as session:
        session["remembered"] = value
    return True


@sio.event
async def whoami(sid: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "worker": os.getpid(),
        "rooms": sorted(sio.rooms(sid)),
        "recovered": recovered.get(sid),
        "auth": auths.get(sid),
        "session": await sio.get_session(sid),
        "connects": connects[sid],
        "disconnects": disconnects[sid],
    }
