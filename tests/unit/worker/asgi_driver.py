"""Drive an ASGI app in-process: HTTP requests and WebSockets as ASGI events, no sockets.

The worker's own app (``socketio.ASGIApp`` around a server the compat layer installed)
answers exactly as behind uvicorn, minus the wire; tests await the replies.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import socketio

from sockd.worker.compat.install import AsyncServer, CompatConfig, install

#: The bound on any single wait in these tests (the in-process app answers at once).
STEP = 2.0
CLIENT = ("127.0.0.7", 40000)


def socketio_app(config: CompatConfig | None = None, **options: Any) -> socketio.ASGIApp:
    """A Socket.IO app as a worker serves an app directory's: sockd's server, installed."""
    sio = AsyncServer(async_mode="asgi", monitor_clients=False, **options)
    install(sio, config or CompatConfig())
    return socketio.ASGIApp(sio)


def _scope(kind: str, method: str, query: dict[str, str]) -> dict[str, Any]:
    headers = [(b"host", b"testserver")]
    if kind == "websocket":
        headers += [(b"connection", b"Upgrade"), (b"upgrade", b"websocket")]
    return {
        "type": kind,
        "method": method,
        "path": "/socket.io/",
        "query_string": urllib.parse.urlencode(query).encode(),
        "headers": headers,
        "client": CLIENT,
    }


@dataclass
class Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


async def request(
    app: Any, method: str = "GET", body: str = "", *, chunks: int = 0, **query: str
) -> Reply:
    """One HTTP request to ``app`` (query defaults: ``EIO=4&transport=polling``); with
    ``chunks``, its body comes chunked, in that many parts, without a length."""
    scope = _scope("http", method, {"EIO": "4", "transport": "polling", **query})
    data = body.encode()
    if chunks:
        scope["headers"].append((b"transfer-encoding", b"chunked"))
        step = -(-len(data) // chunks) or 1
        parts = [data[i : i + step] for i in range(0, len(data), step)] or [b""]
    else:
        scope["headers"].append((b"content-length", str(len(data)).encode()))
        parts = [data]
    events = [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if events:
            return events.pop(0)
        await asyncio.Event().wait()  # no more body: wait as a server would
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    served = asyncio.ensure_future(app(scope, receive, send))
    done, _ = await asyncio.wait({served}, timeout=STEP)
    if not done:  # no timeout of ours may turn into the app's answer
        served.cancel()
        raise AssertionError(f"no answer to {method} {query} within {STEP} s")
    served.result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return Reply(start["status"], answer.decode(), headers)


async def handshake(app: Any) -> str:
    """A new long-polling session's sid."""
    reply = await request(app)
    assert reply.status == 200, reply
    return str(json.loads(reply.body[1:])["sid"])


class WebSocket:
    """One in-process WebSocket: the app runs as a task; frames cross two queues."""

    def __init__(self, app: Any, **query: str) -> None:
        scope = _scope("websocket", "GET", {"EIO": "4", "transport": "websocket", **query})
        self._incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._incoming.put_nowait({"type": "websocket.connect"})
        self.task = asyncio.ensure_future(app(scope, self._incoming.get, self._outgoing.put))

    async def accepted(self) -> bool:
        message = await self._next()
        return bool(message["type"] == "websocket.accept")

    async def _next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self._outgoing.get(), STEP)

    def send(self, text: str) -> None:
        self._incoming.put_nowait({"type": "websocket.receive", "text": text})

    async def receive(self) -> str | None:
        """The next text frame, or None once the app closed the WebSocket."""
        message = await self._next()
        if message["type"] == "websocket.close":
            return None
        return str(message["text"])

    async def close(self) -> None:
        self._incoming.put_nowait({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(self.task, STEP)
