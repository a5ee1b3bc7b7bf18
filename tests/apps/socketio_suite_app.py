"""A python-socketio app configured as the official Socket.IO protocol test suite expects
its server (socketio/socket.io-protocol, test-suite/): a ping every 300 ms, 200 ms to
answer, 1 MB payloads, any origin (its ``connectTimeout`` of 1 s is sockd's
``--connect-timeout 1``); each connection is sent its auth payload, ``message`` comes back
as ``message-back`` and ``message-with-ack`` is acknowledged with its arguments.

``always_connect``: python-socketio then sends the CONNECT answer before it runs the connect
handler, as Node runs its ``connection`` handlers once the socket is connected; without it,
what the handler emits (the auth payload) would come before the CONNECT answer."""

from __future__ import annotations

from typing import Any

import socketio

sio = socketio.AsyncServer(
    async_mode="asgi",
    ping_interval=0.3,
    ping_timeout=0.2,
    max_http_buffer_size=1_000_000,
    cors_allowed_origins="*",
    always_connect=True,
)

for namespace in ("/", "/custom"):

    async def connect(sid: str, environ: dict[str, Any], auth: Any, namespace: str = namespace):
        await sio.emit("auth", auth or {}, to=sid, namespace=namespace)

    sio.on("connect", connect, namespace=namespace)


@sio.on("message")
async def message(sid: str, *args: Any) -> None:
    await sio.emit("message-back", args, to=sid)


@sio.on("message-with-ack")
async def message_with_ack(sid: str, *args: Any) -> tuple[Any, ...]:
    return args
