"""The app every benchmarked system serves: python-socketio with echo, join and fan-out.

One module for all systems, so every comparison runs the same handlers:

- plain uvicorn serves ``bench.app:app``;
- each uvicorn behind nginx serves ``bench.app:app`` with ``BENCH_REDIS_URL`` set, which
  shares rooms through python-socketio's ``AsyncRedisManager`` (the documented deployment);
- sockd serves ``bench.app:sio`` and installs its own bus (IPC, or Redis with ``--redis``).
"""

from __future__ import annotations

import os
from typing import Any

import socketio

_redis_url = os.environ.get("BENCH_REDIS_URL")
_manager = socketio.AsyncRedisManager(_redis_url) if _redis_url else None

sio = socketio.AsyncServer(async_mode="asgi", client_manager=_manager)
app = socketio.ASGIApp(sio)


@sio.event
async def echo(sid: str, data: object) -> object:
    """Closed-loop echo: the ack carries the payload back."""
    return data


@sio.event
async def join(sid: str, room: str) -> bool:
    """Join a room; the ack tells the client it is in (then fan-out may start)."""
    await sio.enter_room(sid, room)
    return True


@sio.event
async def fanout(sid: str, data: dict[str, Any]) -> None:
    """Broadcast ``data`` as a ``fan`` event to ``data["room"]``, across all workers."""
    await sio.emit("fan", data, room=data["room"])
