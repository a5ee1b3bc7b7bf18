"""The app the cluster tests drive: each client asks its worker to make a ``sockd.cluster``
call and gets back what the call returned, in plain JSON (which worker answered with what,
who was missing and why), so a test sees exactly what an app would.

Server-side events for ``server_side_emit``: ``ping`` answers, ``boom`` raises, ``hang``
never answers, ``die`` kills the worker it names (the others answer).
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import socketio

from sockd import cluster

sio = socketio.AsyncServer(async_mode="asgi")
sio.register_namespace(socketio.AsyncNamespace("/other"))


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    if isinstance(auth, dict) and "name" in auth:
        await sio.save_session(sid, {"name": auth["name"]})


@sio.event
async def whoami(sid: str, data: Any = None) -> dict[str, Any]:
    return {"pid": os.getpid(), "sid": sid}


@sio.event
async def join(sid: str, room: str) -> dict[str, Any]:
    await sio.enter_room(sid, room)
    return {"room": room, "pid": os.getpid()}


@sio.event
async def call(sid: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Make ``cluster.<spec["call"]>(sio, *args, **kwargs)`` and describe its result."""
    try:
        function = getattr(cluster, spec["call"])
        result = await function(sio, *spec.get("args", []), **spec.get("kwargs", {}))
    except Exception as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    return describe(result)


@sio.event
async def act(sid: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Fetch the sockets of ``spec["room"]`` and call ``spec["method"]`` on each handle."""
    sockets = await cluster.fetch_sockets(sio, room=spec.get("room"), timeout=5)
    results = []
    for socket in sockets:
        method = getattr(socket, spec["method"])
        outcome = await method(*spec.get("args", []))
        results.append({"id": socket.id, "pid": socket.member.pid, "outcome": describe(outcome)})
    return {"results": results, "missing": [str(m) for m in sockets.missing]}


def describe(result: Any) -> dict[str, Any]:
    if result is None:
        return {}
    summary: dict[str, Any] = {
        "asked": sorted(member.pid for member in result.asked),
        "missing": [
            {"pid": m.member.pid if m.member else None, "reason": m.reason} for m in result.missing
        ],
        "failures": [{"pid": f.member.pid, "error": f.error} for f in result.failures],
        "truncated": result.truncated,
        "complete": result.complete,
    }
    if isinstance(result, cluster.SocketList):
        summary["sockets"] = [
            {
                "id": s.id,
                "pid": s.member.pid,
                "rooms": sorted(s.rooms),
                "data": s.data,
                "handshake": s.handshake,
            }
            for s in result
        ]
    elif isinstance(result, cluster.RoomSizes):
        summary["sizes"] = dict(result)
    elif isinstance(result, cluster.Replies):
        summary["replies"] = [
            {"pid": r.member.pid, "value": r.value, "error": r.error} for r in result
        ]
    elif isinstance(result, cluster.Applied):
        summary["count"] = result.count
    return summary


@cluster.on(sio, "ping")
async def ping(*args: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), "args": list(args)}


@cluster.on(sio, "boom")
def boom() -> None:
    raise RuntimeError(f"boom in {os.getpid()}")


@cluster.on(sio, "hang")
async def hang() -> None:
    await asyncio.sleep(3600)


@cluster.on(sio, "die")
async def die(pid: int) -> str:
    if os.getpid() == pid:
        os.kill(os.getpid(), signal.SIGKILL)
    return "alive"
