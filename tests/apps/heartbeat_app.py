"""``protocol_app``'s handlers with a sub-second heartbeat, for the heartbeat tests.

A ping every 0.5 s and 1.5 s to answer it: the handshake must advertise 500 ms (not 0),
and a session whose client does not answer is gone two seconds after its last pong.
"""

from __future__ import annotations

import socketio

from tests.apps.protocol_app import add_handlers

PING_INTERVAL = 0.5
PING_TIMEOUT = 1.5

sio = socketio.AsyncServer(
    async_mode="asgi",
    ping_interval=PING_INTERVAL,
    ping_timeout=PING_TIMEOUT,
    cors_allowed_origins="*",
)
add_handlers(sio)
