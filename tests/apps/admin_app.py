"""An app with the socket.io Admin UI instrumentation (python-socketio's ``sio.instrument()``),
as an app would set it up at import time."""

from __future__ import annotations

import os
from typing import Any

import socketio

AUTH = {"username": "admin", "password": "s3cret"}

sio = socketio.AsyncServer(async_mode="asgi")
sio.instrument(auth=AUTH, server_stats_interval=1)


@sio.event
async def whoami(sid: str, data: Any = None) -> dict[str, Any]:
    return {"pid": os.getpid(), "sid": sid}


@sio.event
async def join(sid: str, room: str) -> dict[str, Any]:
    await sio.enter_room(sid, room)
    return {"room": room, "pid": os.getpid()}
