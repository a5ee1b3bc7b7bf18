"""The handshake advertises the real ping interval, sub-second ones included.

Spec: the open packet's ``pingInterval`` is the server's ping interval in milliseconds.
python-engineio (4.11-4.15) computes ``int(ping_interval + grace) * 1000``, truncating
before it multiplies, so ``ping_interval=0.3`` is advertised as ``0`` and a client
expecting a ping every 0 ms times out. The open packet is the only packet queued when the
session starts; :class:`ExactPingInterval` corrects it there, before it is encoded.
"""

from __future__ import annotations

from engineio import packet

from sockd.worker.compat.sessions import StartedSession


class ExactPingInterval(StartedSession):
    """Rewrites ``pingInterval`` of the queued open packet in exact milliseconds."""

    def session_started(self) -> None:
        super().session_started()
        queue = self.queue
        pending = [queue.get_nowait() for _ in range(queue.qsize())]
        for pkt in pending:
            queue.task_done()
            if pkt.packet_type == packet.OPEN:
                server = self.server
                interval = server.ping_interval + server.ping_interval_grace_period
                pkt.data["pingInterval"] = round(interval * 1000)
            queue.put_nowait(pkt)
