"""The Socket.IO app the tests drive: every event answers with an ack the test can check.

Each handler is small on purpose: what a test asserts (which worker, which client address,
which room) comes straight from here, so a failure points at sockd, not at the app.
"""

from __future__ import annotations

import os
from typing import Any

import socketio

# async_mode="asgi" always: the tests install aiohttp, which would otherwise change the mode.
# The buffer size lets a client send the 1 MB broadcast of test_cross_worker.
sio = socketio.AsyncServer(async_mode="asgi", max_http_buffer_size=8_000_000)


@sio.event
async def whoami(sid: str, data: Any = None) -> dict[str, Any]:
    """Which worker serves this client, and which address the handlers see for it."""
    environ = sio.get_environ(sid) or {}
    scope_client = (environ.get("asgi.scope") or {}).get("client")
    return {
        "pid": os.getpid(),
        "sid": sid,
        "client": environ.get("REMOTE_ADDR"),
        "scope_client": scope_client[0] if scope_client else None,
    }


@sio.event
async def echo(sid: str, data: Any) -> Any:
    """Return the data unchanged."""
    return data


@sio.event
async def join(sid: str, room: str) -> dict[str, Any]:
    """Enter a room; the ack carries the worker pid so tests can tell workers apart."""
    await sio.enter_room(sid, room)
    return {"room": room, "pid": os.getpid()}


@sio.event
async def leave(sid: str, room: str) -> dict[str, Any]:
    """Leave a room."""
    await sio.leave_room(sid, room)
    return {"room": room}


@sio.event
async def broadcast(sid: str, data: dict[str, Any]) -> bool:
    """Emit ``news`` with ``data["payload"]`` to every member of ``data["room"]``."""
    await sio.emit("news", data["payload"], to=data["room"])
    return True


@sio.event
async def ask(sid: str, data: dict[str, Any]) -> Any:
    """Ask another client (maybe on another worker) a question and return its answer."""
    return await sio.call("question", data["question"], to=data["sid"], timeout=5)


@sio.event
async def close_room(sid: str, room: str) -> bool:
    """Close a room on every worker."""
    await sio.close_room(room)
    return True


@sio.event
async def kick(sid: str, data: dict[str, Any]) -> bool:
    """Disconnect another client (maybe on another worker)."""
    await sio.disconnect(data["sid"])
    return True
