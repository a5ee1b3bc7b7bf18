"""A request for a session that has just been closed gets 400, whatever its method.

Spec: once a session is closed, every request naming its sid gets HTTP 400. A session
closed on the client's error stays in python-engineio's table until a request finds it
(:func:`sockd.worker.protocol.closing.fail_session`); python-engineio (4.11-4.15) answers a
GET for it 400, but a POST meets ``_get_socket``'s ``KeyError`` unhandled: HTTP 500. And
when a session ends, leaving the table, while a POST of it is handled, and the POST then
fails on the closed session, the library's POST path answers 400 only for a session still
in its table, and otherwise with a response it never set: HTTP 500 again.

:class:`ClosedSessions` takes a closed session out of the table before the library looks,
so both methods get its 400 for an unknown session. :class:`PostAfterEnd` puts a session
that ended during its POST back in the table (closed, as ``fail_session`` leaves one) when
that POST fails, so the library answers 400 and removes it again.

python-socketio (5.16-5.18) handles each message of a payload or a WebSocket in a task of its
own, so messages can be handled after their session was closed (by an earlier, malformed
one, say); a CONNECT then fails on the session's environ, gone with it (a ``KeyError``
traceback logged per such packet). :class:`LatePackets` drops a message whose Engine.IO
session is closed, as python-socketio drops an event of a socket no longer connected.
"""

from __future__ import annotations

from typing import Any

import engineio
import socketio
from engineio import exceptions
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.request_checks import query_params


class ClosedSessions(engineio.AsyncServer):
    """Forgets a closed session before the library answers a request for it."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        scope, receive, send = args
        sid = query_params(scope).get("sid", [""])[0]
        socket = self.sockets.get(sid)
        if socket is not None and socket.closed:
            del self.sockets[sid]
        return await super().handle_request(scope, receive, send)


class PostAfterEnd(AsyncSocket):
    """A POST failing on a session that ended meanwhile gets 400, not 500."""

    async def handle_post_request(self, environ: dict[str, Any]) -> None:
        try:
            await super().handle_post_request(environ)
        except exceptions.EngineIOError:
            self.server.sockets.setdefault(self.sid, self)
            raise


class LatePackets(socketio.AsyncServer):
    """Drops a Socket.IO message handled after its Engine.IO session was closed."""

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> Any:
        session = self.eio.sockets.get(eio_sid)
        if session is None or session.closed:
            return None
        return await super()._handle_eio_message(eio_sid, data)
