"""An app that allows only the WebSocket transport: several workers need no stickiness."""

import os

import socketio

sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])


@sio.event
async def whoami(sid: str, data: object = None) -> dict[str, object]:
    return {"pid": os.getpid(), "sid": sid}
