"""The default cluster bus: python-socketio pub/sub over the master.

``AsyncPubSubManager`` needs only ``_publish`` and ``_listen``. Messages go to
the master on the control channel and the master relays each one to every
other ready worker, so rooms, broadcasts, ``close_room``, remote disconnects
and cross-worker acks work on one host without Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from sockd.channel import Kind
from sockd.worker.hot_path.direct_emit import DirectEmit
from sockd.worker.master_link import MasterLink
from sockd.worker.publish_batches import PublishBatches

#: The master bus's message for a broadcast sent as its encoded Socket.IO packet.
ENCODED_EMIT = "sockd-emit-packet"


class MasterBusManager(AsyncPubSubManager, DirectEmit):
    """The pub/sub manager over the master; a plain broadcast crosses it encoded.

    python-socketio publishes an emit's arguments and every worker encodes the packet
    again. Workers of one cluster all run this class, so a callback-less, non-binary
    broadcast is encoded once and sent as its packet (``ENCODED_EMIT``); the rest travels
    as the library's messages.
    """

    name = "sockd-master-bus"

    def __init__(self, link: MasterLink, channel: str = "socketio") -> None:
        super().__init__(channel=channel)
        self._link = link
        self._inbox: asyncio.Queue[bytes] = asyncio.Queue()

    def deliver(self, payload: bytes) -> None:
        """A message another worker published, relayed by the master."""
        self._inbox.put_nowait(payload)

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
        await self._publish(
            {
                "method": ENCODED_EMIT,
                "packet": packets[0].data,
                "namespace": namespace,
                "room": room,
                "skip_sid": skip_sid,
                "host_id": self.host_id,
            }
        )

    async def _publish(self, data: dict[str, Any]) -> None:
        self._link.send(Kind.BUS, self.json.dumps(data).encode())

    async def _listen(self) -> AsyncIterator[Any]:
        """Messages for the library's listener; encoded broadcasts are delivered here."""
        while True:
            payload = await self._inbox.get()
            try:
                message = self.json.loads(payload)
            except ValueError:
                yield payload  # the library's listener skips what it cannot read
                continue
            if isinstance(message, dict) and message.get("method") == ENCODED_EMIT:
                await self._deliver_encoded(message)
            else:
                yield message

    async def _deliver_encoded(self, message: dict[str, Any]) -> None:
        if message.get("host_id") == self.host_id:
            return
        try:
            packets = [eio_packet.Packet(eio_packet.MESSAGE, message["packet"])]
            await self._deliver(
                packets, message["namespace"], message.get("room"), message.get("skip_sid")
            )
        except Exception:
            self.server.logger.exception("Handler error in pubsub listening thread")


class RedisBusManager(socketio.AsyncRedisManager, DirectEmit):
    """python-socketio's Redis manager, delivering on this worker like the master bus.

    Publishes go out in the order they were made, as the master bus and Node's Redis
    adapter keep it, and batched under load (:mod:`sockd.worker.publish_batches`).
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._batches = PublishBatches(self._publish_batch)

    async def _publish(self, data: dict[str, Any]) -> None:
        await self._batches.publish(self.json.dumps(data))

    async def _publish_batch(self, messages: list[str]) -> None:
        """One pipeline of ``PUBLISH``, retried once on a new connection, as the library
        retries a single publish."""
        for retries_left in (1, 0):
            try:
                if not self.connected:
                    self._redis_connect()
                async with self.redis.pipeline(transaction=False) as pipe:
                    for message in messages:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
                return
            except Exception as exc:
                action = "retrying" if retries_left else "giving up"
                self._get_logger().error(
                    "Cannot publish %d message(s) to redis... %s: %s", len(messages), action, exc
                )
                self.connected = False
