"""Read each WebSocket message without a new task per message.

python-engineio's WebSocket handler (4.11-4.15) reads every message as
``await asyncio.wait_for(asyncio.ensure_future(ws.wait()), ping_interval + ping_timeout)``:
on Python 3.11 a task, a timer and a waiter per received message, about a sixth of a
worker's CPU under echo (bench echo scenario). The handler calls ``ws.wait()`` inside that
task, so the WebSocket it is given decides how much one call does: here
:class:`InlineReads` hands each plain message (``4...`` or binary) to the session's
``receive`` itself, as the library's loop would, and returns to the library only what needs
its loop: a pong (which also restarts the library's read bound, so a live client never
meets it: it pongs every ping interval), a close or upgrade packet, anything it must reject
(an oversized or undecodable message), the end of the connection. So one task and one timer
per ping cycle instead of per message. The read bound the library no longer applies per
message is the session's pong deadline (:mod:`sockd.worker.protocol.heartbeat`).
A Socket.IO event's text (``42[...]``) goes to the ``message`` handler as ``receive``
would hand it on, without a packet object, while the session's ``receive`` only passes
messages on and nothing is logged (0.93x worker CPU per echo ack).

One difference: a handler that python-socketio runs inside ``receive`` (connect handlers,
or every handler with ``async_handlers=False``) and that is still running when the
library's bound expires (ping interval + ping timeout after the last pong, when the pong
deadline has already ended the session) is cancelled with the read, where the library
would let it finish on the ended session.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.client_close import ClientClose
from sockd.worker.protocol.packet_types import UnknownTypeCloses

#: A Socket.IO EVENT or ACK as an Engine.IO message's text (``42[``, ``431[``): its data is
#: the text after the ``4`` for python-engineio 4.11-4.15 (not JSON: no number is followed
#: by ``[``).
_EVENT_TEXT = re.compile(r"4\d+\[", re.ASCII)
#: The session classes whose ``receive`` hands a message's data on unchanged.
_PASSING_MESSAGES = frozenset({ClientClose, UnknownTypeCloses, AsyncSocket})


@functools.lru_cache(maxsize=16)
def passes_messages(cls: Any) -> bool:
    """Whether ``cls.receive`` only logs a message packet and triggers ``message``."""
    return {k for k in cls.__mro__ if "receive" in vars(k)} <= _PASSING_MESSAGES


class InlineReads:
    """The WebSocket as python-engineio's handler reads it: plain messages are received
    inside ``wait``, everything else is returned to the library's loop."""

    def __init__(self, ws: Any, socket: AsyncSocket) -> None:
        self._ws = ws
        self._socket = socket

    async def wait(self) -> Any:
        socket = self._socket
        while True:
            message = await self._ws.wait()
            if not (socket.upgraded and not socket.upgrading and self._plain(message)):
                return message
            try:
                if self._event_text(message):  # what receive would do, without a packet
                    server = socket.server
                    await server._trigger_event(
                        "message", socket.sid, message[1:], run_async=server.async_handlers
                    )
                else:
                    await socket.receive(packet.Packet(encoded_packet=message))
            except exceptions.SocketIsClosedError:
                socket.server.logger.info("Receive error -- socket is closed")
                return None  # the library's loop ends as when the client closed
            except Exception:  # as the library's loop: log, and keep the connection
                socket.server.logger.exception("Unknown receive error")

    def _event_text(self, message: Any) -> bool:
        """A Socket.IO event's text that ``receive`` would only log and hand on as it is,
        with logging off (the packet object, its decoding and the mixins' frames: 32.3 to
        30.1 us of worker CPU per echo ack, 0.93x, acks/s 1.04x, bench, 3 interleaved
        rounds)."""
        session_class: Any = type(self._socket)
        return (
            type(message) is str
            and _EVENT_TEXT.match(message) is not None
            and passes_messages(session_class)
            and not self._socket.server.logger.isEnabledFor(logging.INFO)
        )

    def _plain(self, message: Any) -> bool:
        """A message packet the library would pass to ``receive`` as it is."""
        if isinstance(message, str):
            if message[:1] != "4":
                return False
        elif not isinstance(message, bytes):
            return False
        return len(message) <= self._socket.server.max_http_buffer_size

    async def send(self, message: str | bytes) -> None:
        await self._ws.send(message)

    async def close(self) -> None:
        await self._ws.close()


class DirectRead(AsyncSocket):
    """Gives python-engineio's WebSocket handler an :class:`InlineReads` WebSocket."""

    async def _websocket_handler(self, ws: Any) -> None:
        await super()._websocket_handler(InlineReads(ws, self))
