"""A bare python-engineio app (no Socket.IO), configured as the official Engine.IO protocol
test suite expects its server (socketio/engine.io-protocol, test-suite/): a ping every
300 ms, 200 ms to answer, 1 MB payloads, any origin, every message sent back."""

from __future__ import annotations

from typing import Any

import engineio

eio = engineio.AsyncServer(
    async_mode="asgi",
    ping_interval=0.3,
    ping_timeout=0.2,
    max_http_buffer_size=1_000_000,
    cors_allowed_origins="*",
)


@eio.on("message")
async def message(sid: str, data: Any) -> None:
    await eio.send(sid, data)
