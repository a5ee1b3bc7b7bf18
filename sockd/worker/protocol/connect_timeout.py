"""A client that never joins a namespace is disconnected after the connect timeout.

Spec (Node's ``connectTimeout``, 45 s by default): a client that opened an Engine.IO
session but is connected to no namespace when the timeout expires is closed, so half-open
handshakes cannot pin server resources. python-socketio 5.18 has no such timeout: a client
that answers pings and never sends CONNECT stays forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from sockd.worker.protocol.closing import end_session

#: Sessions being ended by their connect timeout (tasks need a reference until done).
_ending: set[asyncio.Task[None]] = set()


def install_connect_timeout(sio: socketio.AsyncServer, timeout: float) -> None:
    """Close Engine.IO sessions that joined no namespace ``timeout`` seconds after opening.

    The timer of a session that joins one is cancelled then, so it does not sit in the
    event loop (and in memory) for the rest of the timeout.
    """
    eio = sio.eio
    on_connect = eio.handlers["connect"]
    handle_connect = sio._handle_connect
    deadlines: dict[str, asyncio.TimerHandle] = {}

    async def on_connect_with_deadline(eio_sid: str, environ: dict[str, Any]) -> Any:
        result = await on_connect(eio_sid, environ)
        deadlines[eio_sid] = asyncio.get_running_loop().call_later(timeout, expired, eio_sid)
        return result

    async def handle_connect_joining(eio_sid: str, namespace: str, data: Any) -> None:
        await handle_connect(eio_sid, namespace, data)
        if eio_sid in deadlines and _in_a_namespace(sio, eio_sid):
            deadlines.pop(eio_sid).cancel()

    def expired(eio_sid: str) -> None:
        deadlines.pop(eio_sid, None)
        socket = eio.sockets.get(eio_sid)
        if socket is None or socket.closed or _in_a_namespace(sio, eio_sid):
            return
        sio.logger.info("Engine.IO session %s joined no namespace in time: closing", eio_sid)
        task = asyncio.ensure_future(end_session(eio, eio_sid))
        _ending.add(task)
        task.add_done_callback(_ending.discard)

    eio.on("connect", on_connect_with_deadline)
    sio._handle_connect = handle_connect_joining  # type: ignore[method-assign]


def _in_a_namespace(sio: socketio.AsyncServer, eio_sid: str) -> bool:
    manager = sio.manager
    return any(
        manager.sid_from_eio_sid(eio_sid, namespace) is not None
        for namespace in list(manager.get_namespaces())
    )
