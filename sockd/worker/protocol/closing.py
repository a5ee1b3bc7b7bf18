"""How the server ends an Engine.IO session: told to go (clients come back) or on an error.

Spec: the server ends a session by closing its transport: it closes the WebSocket, or ends
the pending long-poll so the next request of that sid gets HTTP 400. Both official clients
take that as a transport close and reconnect by themselves.

python-engineio (4.11-4.15) ``disconnect(sid)`` instead queues the close packet ``1`` and
leaves the transport open: python-socketio's client takes ``1`` as final and never
reconnects, and the JavaScript client ignores ``1`` on a WebSocket and hangs until its ping
timeout (45 s with the defaults). :func:`end_session` is the server's decision to end a
session (drain, reload, recycle, a kick, a timeout): no close packet, the transport ended at
once. :func:`fail_session` ends a session the client broke (an invalid packet, a second
concurrent poll) the way Node's engine.io does: a pending poll gets ``1``, and the reason is
Node's (``"parse error"`` for a packet that does not decode).
:class:`ServerDisconnect` routes ``eio.disconnect()`` through :func:`end_session`.
"""

from __future__ import annotations

import engineio
from engineio import packet
from engineio.async_socket import AsyncSocket

#: Node's engine.io reason for a session closed on a packet that does not decode.
PARSE_ERROR = "parse error"


def end_transport(socket: AsyncSocket, last: packet.Packet) -> None:
    """Hand a pending long-poll ``last`` and let the WebSocket writer close the socket.

    The WebSocket gets nothing but the close frame: its writer stops at the empty wake-up.
    """
    if not socket.upgraded:
        socket.queue.put_nowait(last)
    socket.queue.put_nowait(None)


async def end_session(eio: engineio.AsyncServer, sid: str, reason: str | None = None) -> None:
    """Close one session (the app's disconnect handlers run) without the close packet.

    ``reason``: python-engineio's disconnect reason, the server's own decision by default.
    """
    socket = eio.sockets.pop(sid, None)
    if socket is None or socket.closed:
        return
    await socket.close(wait=False, abort=True, reason=reason or eio.reason.SERVER_DISCONNECT)
    end_transport(socket, packet.Packet(packet.NOOP))


async def fail_session(socket: AsyncSocket, reason: str | None = None) -> None:
    """Close a session the client broke; a pending poll receives the close packet ``1``.

    ``reason``: what the app's disconnect handlers see, python-engineio's transport error
    by default.

    The closed socket stays in ``eio.sockets``: python-engineio answers 400 for it and
    removes it, which its request paths rely on.
    """
    if socket.closed:
        return
    reason = reason or socket.server.reason.TRANSPORT_ERROR
    await socket.close(wait=False, abort=True, reason=reason)
    end_transport(socket, packet.Packet(packet.CLOSE))


class ServerDisconnect(engineio.AsyncServer):
    """``eio.disconnect(sid)`` and ``eio.disconnect()`` end sessions so clients reconnect.

    python-engineio calls it too, to end a session after an error in one of its requests.
    """

    async def disconnect(self, sid: str | None = None) -> None:
        for one in [sid] if sid is not None else list(self.sockets):
            await end_session(self, one)
