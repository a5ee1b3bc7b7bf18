"""Broadcasts that cross workers encoded, once.

python-socketio publishes an emit's arguments, and every worker rebuilds and encodes the
packet (and the sender checks the data for binary parts and handles its own message
first, both on the library's generic path). Here a callback-less, non-binary broadcast
is encoded once: delivered on this worker, then published with its encoded packet, which
the other sockd workers put straight on their sessions. Binary emits, callbacks, room
operations and disconnects travel as the library's messages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from engineio import packet as eio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from sockd.worker.bus.bus_probe import PROBE, BusLag, probe
from sockd.worker.hot_path.direct_emit import DirectEmit

#: The key of a bus message that carries a broadcast's encoded Socket.IO packet.
PACKET_KEY = "sockd_packet"


class EncodedBroadcast(AsyncPubSubManager, DirectEmit):
    """A pub/sub manager whose plain broadcasts are encoded once for every worker.

    Subclasses name the message's ``method`` and say whether it keeps python-socketio's
    ``emit`` fields for other python-socketio processes on the bus, and pass what they
    receive through :meth:`_delivering_encoded` in ``_listen`` (which asks
    :meth:`_accepts` about each message).
    """

    #: The ``method`` of a broadcast's bus message.
    broadcast_method: str = "emit"
    #: Whether the message also carries the library's fields (event, arguments, ...).
    keeps_library_fields: bool = True
    #: Bus messages this worker published (each subclass's ``_publish`` counts) and
    #: received, for the metrics.
    published: int = 0
    received: int = 0
    #: The lag its probes show (bus_probe.py); made at the first probe.
    probes: BusLag | None = None

    async def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: str | list[str] | None = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        namespace = namespace or "/"
        packets = None
        if not kwargs.get("ignore_queue") and self._fast_path(callback):
            packets = self._engineio_packets(event, data, namespace)
        if packets is None or len(packets) != 1:  # binary: attachments go the library's way
            await super().emit(
                event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                callback=callback, to=to, **kwargs,
            )  # fmt: skip
            return
        room = to or room
        await self._deliver(packets, namespace, room, skip_sid)
        message: dict[str, Any] = {
            "method": self.broadcast_method,
            "namespace": namespace,
            "room": room,
            "skip_sid": skip_sid,
            "host_id": self.host_id,
            PACKET_KEY: packets[0].data,
        }
        if self.keeps_library_fields:
            arguments = list(data) if isinstance(data, tuple) else [data]
            message.update(event=event, data=arguments, binary=False, callback=None)
        await self._publish(message)

    async def _delivering_encoded(self, received: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """Parse each received message and deliver encoded broadcasts; yield the rest to
        the library's listener (it takes parsed messages as they are)."""
        async for payload in received:
            try:
                message = self.json.loads(payload)
            except (TypeError, ValueError):
                yield payload  # the library's listener skips what it cannot read
                continue
            if not isinstance(message, dict):
                yield message
                continue
            if not self._accepts(message):
                continue  # a copy: not counted again
            self.received += 1
            packet = message.get(PACKET_KEY)
            if packet is None and message.get("method") == PROBE:
                self._lag().received(message)
            elif not isinstance(packet, str):
                yield message
            elif message.get("host_id") != self.host_id:  # a worker's own comes back on Redis
                await self._deliver_encoded(packet, message)

    def _accepts(self, message: dict[str, Any]) -> bool:
        """Whether a received message is to be handled (a bus may drop copies here)."""
        return True

    async def send_probe(self) -> None:
        """Publish a lag probe (``sockd/worker/bus/bus_probe.py``), unless the bus is down
        (then the probe on its way when it went shows the lag, rising)."""
        if not self.bus_up():
            return
        message = probe(self.host_id)
        self._lag().sent(message["at"])
        await self._publish(message)

    def bus_up(self) -> bool:
        """Whether the bus is connected (a bus that can be down says)."""
        return True

    def _lag(self) -> BusLag:
        if self.probes is None:
            self.probes = BusLag(self.host_id)
        return self.probes

    async def _deliver_encoded(self, packet: str, message: dict[str, Any]) -> None:
        try:
            await self._deliver(
                [eio_packet.Packet(eio_packet.MESSAGE, packet)],
                message["namespace"],
                message.get("room"),
                message.get("skip_sid"),
            )
        except Exception:
            self.server.logger.exception("Handler error in pubsub listening thread")
