"""Engine.IO v4 / Socket.IO v5 conformance fixes for python-engineio and python-socketio.

Each module fixes one gap (or a tightly related group) and says what the specification
requires and what the library does; the libraries are not forked or patched globally.
Server-level fixes wrap one method or handler of the app's live servers, as
``real_address`` does, so they compose with other wrappers in either order.
python-engineio builds each session's ``AsyncSocket`` itself, so session-level fixes are
``AsyncSocket`` subclasses overriding its methods, which :func:`install_protocol_fixes`
puts in front of a new session's class (``__class__`` assignment) when its connect event
fires.
"""

from __future__ import annotations

import functools
from typing import Any

import engineio
import socketio
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.client_close import ClientClose
from sockd.worker.protocol.closing import install_server_disconnect
from sockd.worker.protocol.connect_timeout import install_connect_timeout
from sockd.worker.protocol.handshake import fix_ping_interval
from sockd.worker.protocol.heartbeat import PongDeadline
from sockd.worker.protocol.invalid_packets import InvalidPacketCloses
from sockd.worker.protocol.malformed_packets import install_malformed_packet_close
from sockd.worker.protocol.namespaces import install_invalid_namespace
from sockd.worker.protocol.polling import SinglePoll, install_ok_answer
from sockd.worker.protocol.request_checks import install_request_checks
from sockd.worker.protocol.upgrade import SingleUpgrade

SESSION_FIXES: tuple[type[AsyncSocket], ...] = (
    PongDeadline,
    ClientClose,
    SingleUpgrade,
    SinglePoll,
    InvalidPacketCloses,
)


def install_protocol_fixes(
    sio: socketio.AsyncServer,
    *,
    connect_timeout: float,
    session_mixins: tuple[type[AsyncSocket], ...] = (),
    session_bases: tuple[type[AsyncSocket], ...] = (),
) -> None:
    """Make ``sio`` and its Engine.IO server speak the protocols exactly.

    ``connect_timeout``: seconds a client may take to join a namespace (Node's
    ``connectTimeout``). ``session_mixins`` and ``session_bases``: more session classes
    to adopt (the worker's hot path), in front of the fixes and behind them: a base
    replaces a library method the fixes wrap.
    """
    eio = sio.eio
    _install_session_classes(eio, (*session_mixins, *SESSION_FIXES, *session_bases))
    install_request_checks(eio)
    install_ok_answer(eio)
    install_server_disconnect(eio)
    install_invalid_namespace(sio)
    install_malformed_packet_close(sio)
    install_connect_timeout(sio, connect_timeout)


def _install_session_classes(
    eio: engineio.AsyncServer, mixins: tuple[type[AsyncSocket], ...]
) -> None:
    """Give each new session's socket ``mixins`` (fixes, hot path) as its connect event fires.

    That is the first hook after python-engineio created the socket and queued its open
    packet, before anything reads the queue or starts the ping cycle.
    """
    trigger_event = eio._trigger_event

    async def trigger_event_adopting(event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "connect":
            socket = eio.sockets[args[0]]
            socket.__class__ = _adopting(mixins, type(socket))
            fix_ping_interval(socket)
        return await trigger_event(event, *args, **kwargs)

    eio._trigger_event = trigger_event_adopting


@functools.cache
def _adopting(mixins: tuple[type[AsyncSocket], ...], base: type[AsyncSocket]) -> type[AsyncSocket]:
    return type(f"Conformant{base.__name__}", (*mixins, base), {})
