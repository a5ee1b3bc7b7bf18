"""The app of ``python -m bench.cluster_fetch``: idle sockets, and one event that times
``sockd.cluster.fetch_sockets`` inside the worker (the call as an app sees it)."""

from __future__ import annotations

import time
from typing import Any

import socketio

from sockd import cluster

sio = socketio.AsyncServer(async_mode="asgi")


@sio.event
async def fetch(sid: str, spec: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    sockets = await cluster.fetch_sockets(
        sio, room=spec.get("room"), timeout=spec.get("timeout", 30.0), limit=spec["limit"]
    )
    return {
        "seconds": time.perf_counter() - started,
        "sockets": len(sockets),
        "workers": len({socket.member.id for socket in sockets}),
        "complete": sockets.complete,
        "shortfall": sockets.shortfall(),
    }
