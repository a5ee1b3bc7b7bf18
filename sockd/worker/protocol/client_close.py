"""The client's close packet ends the transport at once.

Spec: when the client sends the close packet ``1``, a pending long-poll is answered with a
noop ``6`` (HTTP 200) and later requests of the session get 400; on a WebSocket the server
closes the socket. python-engineio (4.11-4.15) marks the session closed but leaves the pending
poll waiting until ``pingInterval + pingTimeout``, then answers 400, and leaves the
WebSocket open for as long.
"""

from __future__ import annotations

from engineio import packet
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.closing import end_transport


class ClientClose(AsyncSocket):
    """After the library handled a close packet, release the poll or close the WebSocket."""

    async def receive(self, pkt: packet.Packet) -> None:
        await super().receive(pkt)
        if pkt.packet_type == packet.CLOSE:
            end_transport(self, packet.Packet(packet.NOOP))
