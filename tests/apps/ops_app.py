"""The app of the operations tests (reload, scaling, watchdog, recycling, status).

``GET /pid`` answers a plain HTTP request with the worker's pid, so a test can learn which
worker a source address reaches with one cheap connection instead of a Socket.IO session.
Two events misbehave on purpose: ``block`` stalls the event loop, ``grow`` holds memory.
"""

from __future__ import annotations

import os
import time
from typing import Any

import socketio

sio = socketio.AsyncServer(async_mode="asgi")
#: What ``grow`` keeps alive, so the worker's RSS stays up.
_hoard: list[bytes] = []


@sio.event
async def whoami(sid: str, data: Any = None) -> dict[str, Any]:
    return {"pid": os.getpid(), "sid": sid}


@sio.event
async def block(sid: str, seconds: float) -> bool:
    """Stall the whole event loop, as a CPU-bound handler would."""
    time.sleep(seconds)
    return True


@sio.event
async def grow(sid: str, megabytes: int) -> int:
    """Hold ``megabytes`` of written (so resident) memory; returns the pid."""
    _hoard.append(b"\x01" * (megabytes * 1024 * 1024))
    return os.getpid()


async def plain_http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Everything that is not Socket.IO: ``GET /pid``, and the lifespan events."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = str(os.getpid()).encode() if scope["path"] == "/pid" else b"not found"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if scope["path"] == "/pid" else 404,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


app = socketio.ASGIApp(sio, other_asgi_app=plain_http)
