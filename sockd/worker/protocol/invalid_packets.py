"""An Engine.IO packet that cannot be decoded closes the session.

Spec: a payload or WebSocket frame that is not a valid packet (``abc``, bad base64, a
broken payload) is a protocol error: the session is closed; over long-polling the POST
gets HTTP 400 and so do later requests; Node's engine.io gives the app ``"parse error"`` as
the reason. python-engineio (4.11-4.15) logs the decoding error of a POST and answers 200,
keeping the session; over WebSocket the error escapes its handler, so the socket drops but
the session stays open until the ping timeout notices it.
"""

from __future__ import annotations

from typing import Any

from engineio import exceptions
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.closing import PARSE_ERROR, fail_session


class InvalidPacketCloses(AsyncSocket):
    """Close the session on a decoding error (python-engineio raises ValueError for those)."""

    async def handle_post_request(self, environ: dict[str, Any]) -> None:
        try:
            await super().handle_post_request(environ)
        except ValueError as exc:
            await fail_session(self, PARSE_ERROR)
            raise exceptions.EngineIOError(f"invalid packet: {exc}") from exc

    async def _websocket_handler(self, ws: Any) -> None:
        try:
            await super()._websocket_handler(ws)
        except ValueError:
            if self.upgraded:
                await fail_session(self, PARSE_ERROR)
            else:  # a broken upgrade probe: this WebSocket is dropped, polling goes on
                self.upgrading = False
