"""Broadcast without a task per recipient.

python-socketio's ``AsyncManager.emit`` encodes a broadcast once, then creates one task
per recipient that awaits ``AsyncSocket.send``, which checks the session is alive and puts
the packet on the session's unbounded queue, and waits for them all. For a room of 500 on
a worker that is 500 tasks per message (a sixth of a worker's CPU under fan-out, py-spy,
and most of the garbage the collector walked). Here the packet goes straight onto each
live session (written at once or queued, see :mod:`.direct_write`), in the order the
library would queue it; a session whose check needs work (its pong deadline passed:
ending it awaits) takes the library's own path.
Emits with a callback, and servers logging every packet, take the library's path too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from engineio import exceptions
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket
from socketio import packet

from sockd.worker.hot_path.direct_write import DirectWrite


class DirectEmit(socketio.AsyncManager):
    """A client manager whose callback-less emits queue packets directly."""

    async def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: str | list[str] | None = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not self._fast_path(callback):
            await super().emit(
                event, data, namespace, room=room, skip_sid=skip_sid,
                callback=callback, to=to, **kwargs,
            )  # fmt: skip
            return
        if namespace in self.rooms:
            packets = self._engineio_packets(event, data, namespace)
            await self._deliver(packets, namespace, to or room, skip_sid)

    def _fast_path(self, callback: Any) -> bool:
        """Whether an emit may skip the library's per-recipient path."""
        return callback is None and not self.server.eio.logger.isEnabledFor(logging.INFO)

    async def _deliver(
        self,
        packets: list[eio_packet.Packet],
        namespace: str,
        room: str | None,
        skip_sid: str | list[str] | None,
    ) -> None:
        """Put encoded ``packets`` on every live session of ``room`` in ``namespace``."""
        if namespace not in self.rooms:
            return
        eio = self.server.eio
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        now = asyncio.get_running_loop().time()
        checked: list[AsyncSocket] = []
        for sid, eio_sid in self.get_participants(namespace, room):
            socket = eio.sockets.get(eio_sid)
            if socket is None or sid in skip:
                continue
            if not (isinstance(socket, DirectWrite) and socket.deliver_if_alive(packets, now)):
                checked.append(socket)
        for socket in checked:
            await _send_checked(socket, packets)

    def _engineio_packets(self, event: str, data: Any, namespace: str) -> list[eio_packet.Packet]:
        """The Engine.IO packets of one event, as ``AsyncManager.emit`` builds them."""
        if isinstance(data, tuple):
            args = list(data)  # a tuple is several arguments
        elif data is not None:
            args = [data]
        else:
            args = []
        pkt = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args])
        encoded = pkt.encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        return [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]


async def _send_checked(socket: AsyncSocket, packets: list[eio_packet.Packet]) -> None:
    """The library's send, which may end a session past its deadline instead."""
    try:
        for pkt in packets:
            await socket.send(pkt)
    except exceptions.SocketIsClosedError:
        pass  # closed meanwhile: the library's task would have dropped it the same way
