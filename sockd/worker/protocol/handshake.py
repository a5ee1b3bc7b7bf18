"""The handshake advertises the real ping interval, sub-second ones included.

Spec: the open packet's ``pingInterval`` is the server's ping interval in milliseconds.
python-engineio 4.15 computes ``int(ping_interval + grace) * 1000``, truncating before it
multiplies, so ``ping_interval=0.3`` is advertised as ``0`` and a client expecting a ping
every 0 ms times out. The open packet is the only packet queued when the session's
connect event fires; :func:`fix_ping_interval` corrects it there, before it is encoded.
"""

from __future__ import annotations

from engineio import packet
from engineio.async_socket import AsyncSocket


def fix_ping_interval(socket: AsyncSocket) -> None:
    """Rewrite ``pingInterval`` of the session's queued open packet in exact milliseconds."""
    queue = socket.queue
    pending = [queue.get_nowait() for _ in range(queue.qsize())]
    for pkt in pending:
        queue.task_done()
        if pkt.packet_type == packet.OPEN:
            server = socket.server
            interval = server.ping_interval + server.ping_interval_grace_period
            pkt.data["pingInterval"] = round(interval * 1000)
        queue.put_nowait(pkt)
