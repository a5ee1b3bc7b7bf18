"""Request-aware socket ids: the app's ``generate_id(request)``, sync or async.

python-engineio calls ``generate_id()`` with no request and cannot await. An
ASGI wrapper therefore computes the id for each handshake before engine.io
sees it and leaves it in a context variable, which the engine.io server's
``generate_id`` (replaced on the instance) reads in the same task.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import socketio

from sockd.worker.app_model.context import Request

log = logging.getLogger("sockd.app")

IdFactory = Callable[[Request], str | Awaitable[str]]
ASGIApp = Callable[..., Awaitable[None]]

_handshake_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sockd_handshake_id", default=None
)


def install_generate_id(
    sio: socketio.AsyncServer, factory: IdFactory, app: ASGIApp, path: str
) -> ASGIApp:
    """Make ``sio`` use ``factory``'s ids; returns the ASGI app to serve instead of ``app``.

    The Engine.IO session gets the generated id, and so does the client's socket
    in the default namespace (``ctx.socket.id``); sockets in other namespaces
    keep random ids, since one client may join several.
    """
    eio = sio.eio
    default = eio.generate_id
    eio.generate_id = lambda: _handshake_id.get() or default()
    handle_connect = sio._handle_connect

    async def handle_connect_with_engine_id(eio_sid: str, namespace: str, data: Any) -> Any:
        # python-socketio draws the socket id from eio.generate_id() in here.
        token = _handshake_id.set(eio_sid if (namespace or "/") == "/" else None)
        try:
            return await handle_connect(eio_sid, namespace, data)
        finally:
            _handshake_id.reset(token)

    sio._handle_connect = handle_connect_with_engine_id
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
            await app(scope, receive, send)
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
