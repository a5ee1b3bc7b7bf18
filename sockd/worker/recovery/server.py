"""The Socket.IO server's side of recovery, on python-socketio's own steps of a connection.

Spec (Socket.IO v5 with connection state recovery, socket.io 4.6+): the CONNECT reply
carries a private id, ``40{"sid":"...","pid":"..."}``; a client that reconnects sends it
back with the offset of the last packet it got, ``40{"pid":"...","offset":"...",...}``,
and gets the same socket id, its rooms, its data and the packets it missed. python-socketio
(5.16-5.18) has none of it. :class:`RecoveringServer` takes the claim off the auth the app
sees, lets the manager restore (:mod:`.manager`), tells the app (``environ
["sockd.recovered"]``), adds the pid to the CONNECT reply, and marks the disconnects of a
lost Engine.IO session as losses rather than ends. It is inert unless the server's manager
recovers (the worker installs one when ``[io.recovery] max_disconnection_duration`` is set).
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from socketio import packet

from sockd.worker.recovery.attempts import (
    Attempt,
    begin_attempt,
    current_attempt,
    end_attempt,
    end_losing,
    losing,
    split_claim,
)
from sockd.worker.recovery.manager import RecoveringManager

#: Set in the environ a connect handler receives, when recovery is on.
RECOVERED = "sockd.recovered"


class RecoveringServer(socketio.AsyncServer):
    def _recovering(self) -> RecoveringManager | None:
        manager = self.manager
        return manager if isinstance(manager, RecoveringManager) and manager.recovers else None

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> Any:
        namespace = namespace or "/"
        manager = self._recovering()
        if manager is None:
            return await super()._handle_connect(eio_sid, namespace, data)
        claim, auth = split_claim(data)
        attempt = Attempt(namespace, claim)
        token = begin_attempt(attempt)
        try:
            await manager.restore(eio_sid, attempt)
            return await super()._handle_connect(eio_sid, namespace, auth)
        finally:
            end_attempt(token)

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        attempt = current_attempt(namespace) if event == "connect" else None
        if attempt is not None and len(args) >= 2 and isinstance(args[1], dict):
            sid, environ, *rest = args
            args = (sid, {**environ, RECOVERED: attempt.recovered}, *rest)
        return await super()._trigger_event(event, namespace, *args)

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        if pkt.packet_type == packet.CONNECT and isinstance(pkt.data, dict) and "sid" in pkt.data:
            namespace = pkt.namespace or "/"
            attempt = current_attempt(namespace)
            manager = self._recovering()
            if attempt is not None and manager is not None:
                pkt.data = {**pkt.data, "pid": attempt.pid}
                manager.connected(pkt.data["sid"], namespace, attempt)
        await super()._send_packet(eio_sid, pkt)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        if reason == self.eio.reason.CLIENT_DISCONNECT and self._recovering() is not None:
            # The client closed its Engine.IO session. python-socketio's client sends its
            # DISCONNECTs just before, which the library handles in tasks of their own: let
            # them run first, so a client that left is not taken for one that may come back.
            await asyncio.sleep(0)
        token = losing(eio_sid, reason)
        try:
            await super()._handle_eio_disconnect(eio_sid, reason)
        finally:
            end_losing(token)

    async def save_session(self, sid: str, session: Any, namespace: str | None = None) -> None:
        await super().save_session(sid, session, namespace=namespace)
        manager = self._recovering()
        if manager is not None:
            manager.data_changed(sid, namespace or "/")
