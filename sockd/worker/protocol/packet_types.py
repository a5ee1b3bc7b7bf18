"""An Engine.IO packet of a type the protocol does not have closes the session.

Spec: packet types are 0 (open) to 6 (noop); anything else does not decode. Node's
engine.io decodes it as its error packet and closes the session with ``"parse error"``.
python-engineio (4.11-4.15) decodes ``7``, ``8`` and ``9`` as packets of those types, then
refuses them in ``receive`` with ``UnknownPacketError``: over WebSocket its loop ignores
that and goes on reading, and over long-polling it ends the session as if the server had
decided to (its disconnect reason is ``"server disconnect"``).

Here such a packet ends the session as an undecodable one does
(:mod:`sockd.worker.protocol.invalid_packets`): a pending poll receives the close packet,
the app's disconnect handlers get ``"parse error"``, and the request that carried it ends
as the library ends one for a closed session (the POST gets 400; the WebSocket closes).
"""

from __future__ import annotations

from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket

from sockd.worker.hosting import client_errors
from sockd.worker.protocol.closing import PARSE_ERROR, fail_session

#: The packet types of Engine.IO v4.
KNOWN_TYPES = range(len(packet.packet_names))


class UnknownTypeCloses(AsyncSocket):
    """Closes the session on a packet whose type is not one of Engine.IO's."""

    async def receive(self, pkt: packet.Packet) -> None:
        if pkt.packet_type not in KNOWN_TYPES:
            client_errors.note("closed: Engine.IO packet of an unknown type", pkt.packet_type)
            await fail_session(self, PARSE_ERROR)
            raise exceptions.SocketIsClosedError("unknown packet type")
        await super().receive(pkt)
