"""Write a packet to an idle WebSocket at once, without waking the session's writer task.

python-engineio queues every outgoing packet, and a writer task per WebSocket session
takes it from the queue and sends it. For each ack or broadcast delivery that is one
task wake-up (its step, the poll, the timeout's timer), a sixth of a worker's CPU under
echo (py-spy). When that writer is parked on an empty queue nothing can be ahead of a new
packet, so it is written right away through uvicorn's protocol (``send_now``); otherwise,
or when the transport is paused by a slow client, it is queued as before and the writer
keeps the order. Only a WebSocket whose ASGI ``send`` is uvicorn's own is written to
directly: a wrapping ASGI middleware sees every frame, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from engineio import packet as eio_packet

from sockd.worker.hosting.uvicorn_adapter import direct_sender
from sockd.worker.hot_path.writer_poll import TimerPoll
from sockd.worker.protocol.heartbeat import PongDeadline


class DirectWrite(TimerPoll):
    #: Writes one frame to this session's WebSocket now, or answers False.
    _direct: Callable[[str | bytes], bool] | None = None
    #: The loop, looked up once per WebSocket (on Python 3.11 each lookup calls getpid).
    _loop: asyncio.AbstractEventLoop | None = None

    async def _websocket_handler(self, ws: Any) -> None:
        # ``asgi_send``: python-engineio's ASGI WebSocket keeps the ASGI ``send`` there.
        self._direct = direct_sender(getattr(ws, "asgi_send", None))
        self._loop = asyncio.get_running_loop()
        try:
            await super()._websocket_handler(ws)
        finally:
            self._direct = None

    async def send(self, pkt: eio_packet.Packet) -> None:
        """The library's send (ping check, queue, log), writing at once where it can."""
        now = (self._loop or asyncio.get_running_loop()).time()
        if self.server.logger.isEnabledFor(logging.INFO) or not self.deliver_if_alive([pkt], now):
            await super().send(pkt)

    def deliver_if_alive(self, packets: list[eio_packet.Packet], now: float) -> bool:
        """Deliver ``packets`` if the session passes the ping check at ``now`` without
        awaiting; False (nothing done) if the library's send must check it."""
        if not (isinstance(self, PongDeadline) and self.alive_at(now)):
            return False
        for pkt in packets:
            self._deliver(pkt)
        return True

    def _deliver(self, pkt: eio_packet.Packet) -> None:
        """Write ``pkt`` now if the writer has nothing pending, else queue it for the writer."""
        direct = self._direct
        if (
            direct is not None
            and self.parked
            and self.upgraded
            and not self.upgrading
            and pkt.packet_type != eio_packet.NOOP
            and self.queue.empty()
            and direct(pkt.encode())
        ):
            self.written_while_parked = True
            return
        self.queue.put_nowait(pkt)
