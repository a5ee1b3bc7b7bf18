"""Request-aware socket ids: the app's ``generate_id(request)``, sync or async.

python-engineio calls ``generate_id()`` with no request and cannot await. An ASGI wrapper
(:func:`install_generate_id`) therefore computes the id for each handshake before
engine.io sees it and leaves it in a context variable, and the handshake's scope says so;
:class:`HandshakeIds` (the Engine.IO server's ``generate_id``) reads it in the same task,
and :class:`EngineIdSockets` gives the client's socket in the default namespace the same
id. Both are entries of the compat list (:mod:`sockd.worker.compat.entries`), inert for
apps without a ``generate_id``.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import engineio
import socketio

from sockd.worker.app_model.context import Request

log = logging.getLogger("sockd.app")

IdFactory = Callable[[Request], str | Awaitable[str]]
ASGIApp = Callable[..., Awaitable[None]]

#: Set in the scope of a handshake whose session id the app generated.
GENERATED_ID = "sockd.generated_id"

_handshake_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sockd_handshake_id", default=None
)


class HandshakeIds(engineio.AsyncServer):
    """Session ids come from the app's ``generate_id`` when the handshake has one."""

    def generate_id(self) -> str:
        return _handshake_id.get() or super().generate_id()


class EngineIdSockets(socketio.AsyncServer):
    """The socket in the default namespace gets the Engine.IO id the app generated;
    sockets in other namespaces keep random ids, since one client may join several.

    python-socketio draws the socket id from ``eio.generate_id()`` in ``_handle_connect``.
    """

    async def _handle_connect(self, eio_sid: str, namespace: str, data: Any) -> Any:
        scope = (self.environ.get(eio_sid) or {}).get("asgi.scope") or {}
        generated = bool(scope.get(GENERATED_ID)) and (namespace or "/") == "/"
        token = _handshake_id.set(eio_sid if generated else None)
        try:
            return await super()._handle_connect(eio_sid, namespace, data)
        finally:
            _handshake_id.reset(token)


def install_generate_id(
    sio: socketio.AsyncServer, factory: IdFactory, app: ASGIApp, path: str
) -> ASGIApp:
    """The ASGI app to serve instead of ``app`` so that ``sio``'s sessions (and default
    namespace sockets) get ``factory``'s ids."""
    eio = sio.eio
    prefix = "/" + path.strip("/") + "/"

    async def with_generated_id(scope: dict[str, Any], receive: Any, send: Any) -> None:
        opens_session = (
            scope["type"] in ("http", "websocket")
            and scope["path"].startswith(prefix)
            and not names_a_session(scope.get("query_string", b""))
        )
        if not opens_session:
            await app(scope, receive, send)
            return
        request = Request.from_scope(scope)
        try:
            sid = factory(request)
            if inspect.isawaitable(sid):
                sid = await sid
            if not isinstance(sid, str) or not sid:
                raise TypeError(f"generate_id returned {sid!r}, not a non-empty str")
            if sid in eio.sockets:
                raise ValueError(f"generate_id returned {sid!r}, which is already in use")
        except Exception:
            log.exception("generate_id failed for a handshake from %s", request.address)
            await _refuse(scope, send)
            return
        token = _handshake_id.set(sid)
        try:
            await app({**scope, GENERATED_ID: True}, receive, send)
        finally:
            _handshake_id.reset(token)

    return with_generated_id


def names_a_session(query_string: bytes) -> bool:
    """Whether a request belongs to an existing session: a non-empty query parameter ``sid``.

    Parsed as python-engineio parses it (``parse_qs``, blank values dropped), so exactly the
    requests it takes for handshakes get a generated id; ``usersid=1`` is not a session id.
    """
    return "sid" in parse_qs(query_string.decode("latin-1"))


async def _refuse(scope: dict[str, Any], send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1011})
        return
    body = b"could not create a session id"
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
