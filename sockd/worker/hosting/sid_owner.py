"""``--sticky-key sid`` in the worker: tag session ids with the slot, send strangers home.

Session ids get the worker's slot appended (``sockd/sid_tag.py``) after the app's
own ``generate_id`` ran, so the master can route each request by its ``sid=``.
The master routes a connection by its first request only: a later request on
the same keep-alive connection may belong to a session another worker owns
(browsers share connections between tabs). Such a request is answered with a
307 to the same URL and ``Connection: close``; the client repeats it (method
and body kept) on a new connection, which the master routes to the owner.
A WebSocket upgrade cannot be redirected, so it is refused (close 1013) and the
client retries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import engineio

from sockd.wire.sid_tag import slot_of, tag
from sockd.worker.hosting.drain_gate import TRY_AGAIN_LATER, ASGIApp, Receive, Scope, Send


class SlotTags(engineio.AsyncServer):
    """Every session id names ``session_slot`` (set by the compat layer with
    ``--sticky-key sid``; ``None`` leaves ids as they are)."""

    session_slot: int | None = None

    def generate_id(self) -> str:
        sid: str = super().generate_id()
        return sid if self.session_slot is None else tag(sid, self.session_slot)


class SidOwnerGate:
    """An ASGI wrapper passing on only requests of sessions this slot owns (or new ones)."""

    def __init__(self, app: ASGIApp, slot: int, sessions: dict[str, Any]) -> None:
        self.app = app
        self.slot = slot
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._owns(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
            else:
                await _redirect_to_self(scope, send)
            return
        await self.app(scope, receive, send)

    def _owns(self, scope: Scope) -> bool:
        query = scope.get("query_string", b"")
        if b"sid=" not in query:
            return True
        sids = parse_qs(query.decode("latin-1")).get("sid")
        if not sids or sids[0] in self._sessions:
            return True
        owner = slot_of(sids[0])
        return owner is None or owner == self.slot


async def _redirect_to_self(scope: Scope, send: Send) -> None:
    """307: the same request again, on a fresh connection the master will route."""
    target = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    location = target + (b"?" + query if query else b"")
    await send(
        {
            "type": "http.response.start",
            "status": 307,
            "headers": [
                (b"location", location),
                (b"content-length", b"0"),
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})
