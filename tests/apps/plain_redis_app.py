"""A plain python-socketio server on Redis, without sockd: the other side of the Redis
interop test (the deployment users migrate from, sharing the channel with sockd)."""

from __future__ import annotations

import os
from typing import Any

import socketio

sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=socketio.AsyncRedisManager(os.environ["PLAIN_REDIS_URL"]),
)
app = socketio.ASGIApp(sio)


@sio.event
async def join(sid: str, room: str) -> dict[str, Any]:
    await sio.enter_room(sid, room)
    return {"room": room, "pid": os.getpid()}


@sio.event
async def broadcast(sid: str, data: dict[str, Any]) -> bool:
    await sio.emit("news", data["payload"], to=data["room"])
    return True
