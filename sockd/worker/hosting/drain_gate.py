"""Keep a draining worker from picking up new work over kept-alive connections.

After the hand-off a client's HTTP keep-alive connection goes straight to its
worker, bypassing the master. A long-polling client whose session was ended
would reconnect over that same connection and start a new session on the
worker that is about to exit. While draining, this ASGI wrapper therefore
closes every connection after its response and refuses new sessions, so the
client's next attempt opens a new TCP connection, which the master routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: WebSocket close code "Try Again Later".
TRY_AGAIN_LATER = 1013


class DrainGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.draining = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.draining or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        opens_session = b"sid=" not in scope.get("query_string", b"")
        if scope["type"] == "websocket":
            if opens_session:
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
                return
            await self.app(scope, receive, send)
            return
        if opens_session:
            await _refuse(send)
            return
        await self.app(scope, receive, _closing(send))


def _closing(send: Send) -> Send:
    async def send_with_close(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() != b"connection"
            ]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return send_with_close


async def _refuse(send: Send) -> None:
    body = b"worker draining, retry"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
