"""The app the protocol tests speak raw Engine.IO / Socket.IO (and the clients) to.

It mirrors the server of the official protocol test suites: a ``/custom`` namespace,
``message`` echoed back as ``message-back`` and ``message-with-ack`` answered by its ack,
with events that let a test read its auth payload, look at a session, or end one from the
server. The ping settings are the library's defaults (25 s and 20 s), so a ping timeout can
never pass for a prompt close; ``heartbeat_app`` has the same handlers with a fast heartbeat.
"""

from __future__ import annotations

import os
from typing import Any

import socketio


def add_handlers(sio: socketio.AsyncServer) -> None:
    """Register the test handlers on ``sio``."""

    for namespace in ("/", "/custom"):

        async def connect(
            sid: str, environ: dict[str, Any], auth: Any, namespace: str = namespace
        ) -> None:
            """Keep the CONNECT packet's auth payload for ``get_auth``."""
            await sio.save_session(sid, {"auth": auth}, namespace=namespace)

        async def get_auth(sid: str, namespace: str = namespace) -> Any:
            """The auth payload of the CONNECT packet (``{}`` when there was none)."""
            return (await sio.get_session(sid, namespace=namespace))["auth"] or {}

        sio.on("connect", connect, namespace=namespace)
        sio.on("get_auth", get_auth, namespace=namespace)

    @sio.on("message")
    async def message(sid: str, *args: Any) -> None:
        """Emit the arguments back as ``message-back`` (binary ones included)."""
        await sio.emit("message-back", args, to=sid)

    @sio.on("message-with-ack")
    async def message_with_ack(sid: str, *args: Any) -> tuple[Any, ...]:
        """Acknowledge with the arguments themselves."""
        return args

    @sio.on("echo")
    async def echo(sid: str, data: Any = None) -> Any:
        """Acknowledge with the data."""
        return data

    @sio.on("whoami")
    async def whoami(sid: str) -> dict[str, Any]:
        """The worker pid and the Engine.IO session id of this client."""
        return {"pid": os.getpid(), "eio_sid": sio.manager.eio_sid_from_sid(sid, "/")}

    @sio.on("has_session")
    async def has_session(sid: str, eio_sid: str) -> bool:
        """Whether this worker still holds the open Engine.IO session ``eio_sid``."""
        socket = sio.eio.sockets.get(eio_sid)
        return socket is not None and not socket.closed

    @sio.on("end_transport")
    async def end_transport(sid: str) -> None:
        """End this client's Engine.IO session from the server, as a kick or a drain does."""
        await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/"))


# async_mode="asgi" always: the tests install aiohttp, which would otherwise change the mode.
sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
add_handlers(sio)
