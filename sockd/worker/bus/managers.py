"""The cluster buses a worker installs: over the master (one host), or over Redis.

``AsyncPubSubManager`` needs only ``_publish`` and ``_listen``. Over the master, messages
go on the control channel and the master relays each one to every other ready worker, so
rooms, broadcasts, ``close_room``, remote disconnects and cross-worker acks work on one
host without Redis. Over Redis (``--redis``), the bus is a stream or pub/sub
(``[io.redis] bus``): redis_streams.py, redis_pubsub.py (redis_sharded_pubsub.py on a
Redis Cluster).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sockd.config.io import RecoverySettings, RedisSettings
from sockd.wire.frames import Kind
from sockd.worker.bus.encoded_broadcast import EncodedBroadcast
from sockd.worker.bus.redis_bus import RedisBus
from sockd.worker.bus.redis_clients import is_cluster
from sockd.worker.bus.redis_pubsub import RedisPubSubBus
from sockd.worker.bus.redis_sharded_pubsub import RedisShardedPubSubBus
from sockd.worker.bus.redis_streams import RedisStreamsBus
from sockd.worker.hosting.master_link import MasterLink
from sockd.worker.recovery.streams_bus import RecoveringStreamsBus

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
        self._inbox: asyncio.Queue[tuple[Kind, bytes]] = asyncio.Queue()

    def deliver(self, payload: bytes, kind: Kind = Kind.BUS) -> None:
        """A message another worker published, relayed by the master (or, of another kind,
        the master's own bus traffic: see :meth:`on_frame`)."""
        self._inbox.put_nowait((kind, payload))

    async def on_frame(self, kind: Kind, payload: bytes) -> None:
        """A frame of another kind than BUS, handled in its place among the bus messages."""

    def stats(self) -> dict[str, Any]:
        """This bus's figures for ``sockd status``: the master's channel is always there."""
        return {"kind": "master", "state": "connected"}

    async def _publish(self, data: dict[str, Any]) -> None:
        self.published += 1
        self._link.send(Kind.BUS, self.json.dumps(data).encode())

    async def _listen(self) -> AsyncIterator[Any]:
        async for message in self._delivering_encoded(self._relayed()):
            yield message

    async def _relayed(self) -> AsyncIterator[bytes]:
        while True:
            kind, payload = await self._inbox.get()
            if kind is Kind.BUS:
                yield payload
            else:
                await self.on_frame(kind, payload)


def redis_bus(
    url: str, settings: RedisSettings, recovery: RecoverySettings | None = None
) -> RedisBus:
    """The Redis bus ``[io.redis] bus`` names: Streams (recovering, when recovery is on), or
    pub/sub (sharded on a Redis Cluster)."""
    if settings.bus == "pubsub":
        if is_cluster(url):
            return RedisShardedPubSubBus(url, settings)
        return RedisPubSubBus(url, settings)
    if recovery is not None and recovery.max_disconnection_duration is not None:
        return RecoveringStreamsBus(url, settings, recovery)
    return RedisStreamsBus(url, settings)
