"""Why a socket left, in Socket.IO's words (what Node's server and egg-socket.io apps see).

python-socketio 5 names fewer reasons, and two of its names cover two cases each: "client
disconnect" is both the client's namespace DISCONNECT packet and its Engine.IO close packet,
"server disconnect" both ``sio.disconnect(sid)`` and the end of the Engine.IO session
(sockd's drain at a stop, reload, recycle or scale-down). Whether the Engine.IO session
is still open when the handlers run tells them apart.
"""

from __future__ import annotations

from typing import Any

import engineio

_LIBRARY = engineio.AsyncServer.reason

#: Socket.IO's reasons (socket.io 4.x ``DisconnectReason``) that sockd produces.
CLIENT_NAMESPACE_DISCONNECT = "client namespace disconnect"
SERVER_NAMESPACE_DISCONNECT = "server namespace disconnect"
SERVER_SHUTTING_DOWN = "server shutting down"
TRANSPORT_CLOSE = "transport close"
TRANSPORT_ERROR = "transport error"
PING_TIMEOUT = "ping timeout"


def socketio_reason(library_reason: Any, engine_open: bool) -> Any:
    """Socket.IO's name for python-socketio's ``library_reason``.

    ``engine_open``: the client's Engine.IO session outlives this disconnect (only one
    namespace ends). Names python-socketio shares with Socket.IO, and any reason this
    module does not know, pass through unchanged.
    """
    if library_reason == _LIBRARY.CLIENT_DISCONNECT:
        # Node calls the Engine.IO close packet of a polling client a transport close.
        return CLIENT_NAMESPACE_DISCONNECT if engine_open else TRANSPORT_CLOSE
    if library_reason == _LIBRARY.SERVER_DISCONNECT:
        return SERVER_NAMESPACE_DISCONNECT if engine_open else SERVER_SHUTTING_DOWN
    return library_reason


def engine_session_open(server: Any, sid: str, namespace: str) -> bool:
    """Whether the Engine.IO session under socket ``sid`` of ``namespace`` is still open."""
    eio_sid = server.manager.eio_sid_from_sid(sid, namespace)
    session = server.eio.sockets.get(eio_sid) if eio_sid is not None else None
    return session is not None and not session.closing and not session.closed
