"""A client that never joins a namespace is disconnected after the connect timeout.

Spec (Node's ``connectTimeout``, 45 s by default): a client that opened an Engine.IO
session but is connected to no namespace when the timeout expires is closed, so half-open
handshakes cannot pin server resources. python-socketio (5.16-5.18) has no such timeout: a
client that answers pings and never sends CONNECT stays forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from sockd.worker.protocol.closing import end_session

#: Sessions being ended by their connect timeout (tasks need a reference until done).
_ending: set[asyncio.Task[None]] = set()


class ConnectTimeout(socketio.AsyncServer):
    """Closes Engine.IO sessions that joined no namespace ``connect_timeout`` seconds after
    opening; ``None`` (the compat layer sets it from ``--connect-timeout``) waits forever.

    The timer of a session that joins a namespace is cancelled then, so it does not sit in
    the event loop (and in memory) for the rest of the timeout.
    """

    connect_timeout: float | None = None
    _join_deadlines: dict[str, asyncio.TimerHandle]

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        result = await super()._handle_eio_connect(eio_sid, environ)
        if self.connect_timeout is not None:
            timer = asyncio.get_running_loop().call_later(
                self.connect_timeout, self._joined_none, eio_sid
            )
            self._deadlines()[eio_sid] = timer
        return result

    async def _handle_connect(self, eio_sid: str, namespace: str, data: Any) -> Any:
        result = await super()._handle_connect(eio_sid, namespace, data)
        deadlines = self._deadlines()
        if eio_sid in deadlines and self._in_a_namespace(eio_sid):
            deadlines.pop(eio_sid).cancel()
        return result

    def _deadlines(self) -> dict[str, asyncio.TimerHandle]:
        try:
            return self._join_deadlines
        except AttributeError:  # an adopted server: no __init__ of ours ran
            self._join_deadlines = {}
            return self._join_deadlines

    def _joined_none(self, eio_sid: str) -> None:
        self._deadlines().pop(eio_sid, None)
        socket = self.eio.sockets.get(eio_sid)
        if socket is None or socket.closed or self._in_a_namespace(eio_sid):
            return
        self.logger.info("Engine.IO session %s joined no namespace in time: closing", eio_sid)
        task = asyncio.ensure_future(end_session(self.eio, eio_sid))
        _ending.add(task)
        task.add_done_callback(_ending.discard)

    def _in_a_namespace(self, eio_sid: str) -> bool:
        manager = self.manager
        return any(
            manager.sid_from_eio_sid(eio_sid, namespace) is not None
            for namespace in list(manager.get_namespaces())
        )
