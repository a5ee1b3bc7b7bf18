"""The app every test host serves: it names its host and worker, joins rooms, broadcasts.

``TEST_HOST_NAME`` (set per host by the fixture) names the host. A short heartbeat
(a ping every 5 s, 5 s to answer) lets a client notice a silent host within 10 s, so the
partition test can show what the balancer's ``on-marked-down shutdown-sessions`` saves
without waiting for the 45 s of the defaults. ``GET /whoami`` answers plain HTTP, so a test
learns where the balancer sends a source address with one cheap request. The ``whoami``
event also says the socket's rooms and whether its connect recovered it (sockd's
``environ["sockd.recovered"]``, on hosts with connection state recovery on). ``fanout`` is
the benchmark's fan-out event (bench/app.py), so its load generator can measure the hosts.
"""

from __future__ import annotations

import json
import os
from typing import Any

import socketio

HOST = os.environ.get("TEST_HOST_NAME", "?")
PING_INTERVAL = 5
PING_TIMEOUT = 5

sio = socketio.AsyncServer(
    async_mode="asgi", ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT
)


#: Per connected socket: whether its last connect recovered it (hosts with recovery on).
recovered: dict[str, bool] = {}


def _where(client: str | None) -> dict[str, Any]:
    return {"host": HOST, "pid": os.getpid(), "client": client}


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
    recovered[sid] = bool(environ.get("sockd.recovered"))


@sio.event
async def disconnect(sid: str, reason: Any = None) -> None:
    recovered.pop(sid, None)


@sio.event
async def whoami(sid: str, data: Any = None) -> dict[str, Any]:
    """Which host and worker serve this client, the address sockd saw for it, its rooms,
    and whether its connect was a recovery."""
    scope_client = ((sio.get_environ(sid) or {}).get("asgi.scope") or {}).get("client")
    where = _where(scope_client[0] if scope_client else None)
    return {**where, "rooms": sorted(sio.rooms(sid)), "recovered": recovered.get(sid, False)}


@sio.event
async def join(sid: str, room: str) -> dict[str, Any]:
    await sio.enter_room(sid, room)
    return {"room": room, "host": HOST}


@sio.event
async def broadcast(sid: str, data: dict[str, Any]) -> bool:
    """Emit ``news`` with ``data["payload"]`` to every member of ``data["room"]``."""
    await sio.emit("news", data["payload"], to=data["room"])
    return True


@sio.event
async def fanout(sid: str, data: dict[str, Any]) -> None:
    """Emit ``data`` as ``fan`` to ``data["room"]``, unacked: bench/app.py's event."""
    await sio.emit("fan", data, to=data["room"])


async def _plain_http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``GET /whoami`` as JSON, 404 for anything else, and the lifespan events."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    found = scope["path"] == "/whoami"
    client = scope.get("client")
    body = json.dumps(_where(client[0] if client else None)).encode() if found else b"{}"
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200 if found else 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})


app = socketio.ASGIApp(sio, other_asgi_app=_plain_http)
