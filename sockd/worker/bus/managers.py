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

from sockd.wire.frames import Kind
from sockd.worker.bus.encoded_broadcast import EncodedBroadcast
from sockd.worker.bus.publish_batches import PublishBatches
from sockd.worker.hosting.master_link import MasterLink

#: The master bus's method for a broadcast that carries only its encoded packet.
ENCODED_EMIT = "sockd-emit-packet"


class MasterBusManager(EncodedBroadcast):
    """The pub/sub manager over the master. Its workers all run this class, so a broadcast
    crosses it as its encoded packet alone (:mod:`sockd.worker.bus.encoded_broadcast`)."""

    name = "sockd-master-bus"
    broadcast_method = ENCODED_EMIT
    keeps_library_fields = False

    def __init__(self, link: MasterLink, channel: str = "socketio") -> None:
        super().__init__(channel=channel)
        self._link = link
        self._inbox: asyncio.Queue[bytes] = asyncio.Queue()

    def deliver(self, payload: bytes) -> None:
        """A message another worker published, relayed by the master."""
        self._inbox.put_nowait(payload)

    async def _publish(self, data: dict[str, Any]) -> None:
        self._link.send(Kind.BUS, self.json.dumps(data).encode())

    async def _listen(self) -> AsyncIterator[Any]:
        async for message in self._delivering_encoded(self._relayed()):
            yield message

    async def _relayed(self) -> AsyncIterator[bytes]:
        while True:
            yield await self._inbox.get()


class RedisBusManager(socketio.AsyncRedisManager, EncodedBroadcast):
    """python-socketio's Redis manager, delivering on this worker like the master bus.

    A broadcast is the library's ``emit`` message plus its encoded packet: sockd workers
    deliver the packet, any other python-socketio process on the channel reads the rest.
    Publishes go out in the order they were made, as the master bus and Node's Redis
    adapter keep it, and batched under load (:mod:`sockd.worker.bus.publish_batches`).
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._batches = PublishBatches(self._publish_batch)

    async def _listen(self) -> AsyncIterator[Any]:
        async for message in self._delivering_encoded(super()._listen()):
            yield message

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
