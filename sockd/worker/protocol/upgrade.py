"""One upgrade per session, no noop on the WebSocket, no HTTP after the upgrade.

Spec: while a session upgrades, or after it upgraded, another WebSocket with its sid is
closed (and polling requests get 400); Node's engine.io completes that WebSocket's
handshake, then closes it. The noop ``6`` that ends the pending long-poll during an upgrade
belongs to that poll only. python-engineio (4.11-4.15) refuses a second WebSocket after the
upgrade completed before its handshake (uvicorn answers 403); one arriving during the
upgrade starts a second upgrade of the same session. And it queues that noop whether or not
a poll is pending, so without one the noop is sent as the first WebSocket frame after the
upgrade. Before 4.15 it also accepts a POST for an upgraded session (200, its packets
received).
"""

from __future__ import annotations

from typing import Any

import engineio
from engineio import packet
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.request_checks import query_params

NOOP = packet.Packet(packet.NOOP).encode()


class _WithoutNoop:
    """The WebSocket as python-engineio's handler uses it, dropping noop frames it sends."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    async def wait(self) -> Any:
        return await self._ws.wait()

    async def send(self, message: str | bytes) -> None:
        if message != NOOP:
            await self._ws.send(message)

    async def close(self) -> None:
        await self._ws.close()


async def accept_and_close(send: Any) -> None:
    """Node's answer to a WebSocket its session has no use for: accepted, then closed."""
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 1000})


class SingleUpgrade(AsyncSocket):
    """Close a WebSocket arriving while the session upgrades; never send a noop over
    WebSocket."""

    async def _upgrade_websocket(self, environ: dict[str, Any]) -> Any:
        if self.upgrading:
            await accept_and_close(environ["asgi.send"])
            return None
        return await super()._upgrade_websocket(environ)

    async def _websocket_handler(self, ws: Any) -> None:
        await super()._websocket_handler(_WithoutNoop(ws))


class UpgradedSessionWebSocket(engineio.AsyncServer):
    """A WebSocket for a session already upgraded is accepted, then closed."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        scope, receive, send = args
        if scope["type"] == "websocket":
            socket = self.sockets.get(query_params(scope).get("sid", [""])[0])
            if socket is not None and socket.upgraded and not socket.closed:
                if (await receive())["type"] == "websocket.connect":
                    await accept_and_close(send)
                return None
        return await super().handle_request(scope, receive, send)


class NoPostAfterUpgrade(engineio.AsyncServer):
    """A POST for an upgraded session gets 400 and leaves the session alone, as
    python-engineio answers it since 4.15."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        scope, receive, send = args
        if scope.get("method") == "POST":
            sid = query_params(scope).get("sid", [""])[0]
            socket = self.sockets.get(sid)
            if socket is not None and socket.upgraded:
                environ = await self._async["translate_request"](scope, receive, send)
                if environ:
                    response = self._bad_request("Unexpected HTTP request")
                    await self._make_response(response, environ)
                return None
        return await super().handle_request(scope, receive, send)
