"""The pub/sub bus on a Redis Cluster: sharded pub/sub (SSUBSCRIBE, SPUBLISH; Redis 7).

Plain PUBLISH in a Cluster is sent to every node over the cluster bus; a shard channel
lives on the shard that owns its slot (the channel's name hashed as a key), so the bus's
one channel costs one shard and its replicas, like the Streams bus's one key. redis-py's
asyncio ``RedisCluster`` routes SPUBLISH by slot (following MOVED and ASK) and its
``ClusterPubSub`` subscribes on the slot's node (redis-py 8.0 and later).

When the slot moves (a migration, or a failover to a replica), Redis ends the subscription
with an SUNSUBSCRIBE the bus did not ask for. The reader takes that as a lost connection:
the bus logs it once, subscribes again on the slot's new owner, and, as after any
resubscription, publishes again only after the other workers had time to do the same
(redis_pubsub.py). A publish that went to the new owner before this worker's reader saw
the SUNSUBSCRIBE reached nobody, not even that reader (SPUBLISH says how many it reached):
its batch is sent again once the reader has subscribed there (readers drop what they
had). What was published to the new owner before another worker subscribed there is
lost for that worker, and counted (``missed``). Plain python-socketio servers cannot
share this channel (they speak neither Cluster nor sharded pub/sub).
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError

from sockd.worker.bus.outbound_queue import Outgoing
from sockd.worker.bus.redis_clients import BusClient
from sockd.worker.bus.redis_pubsub import RedisPubSubBus


class RedisShardedPubSubBus(RedisPubSubBus):
    """Sharded pub/sub on a Redis Cluster, otherwise the pub/sub bus."""

    name = "sockd-redis-sharded-pubsub"
    confirmation_type, message_type = "ssubscribe", "smessage"

    async def _send(self, batch: list[Outgoing]) -> None:
        async with self._publisher.pipeline(transaction=False) as pipe:
            for item in batch:
                pipe.spublish(self.channel, item.payload)
            receivers = await pipe.execute()
        if 0 in receivers:
            raise RedisConnectionError(
                f"a message on {self.channel!r} reached no subscriber, not even this "
                "worker's: its slot moved"
            )

    async def _subscribe(self, client: BusClient) -> PubSub:
        client = cast(RedisCluster, client)  # a redis+cluster:// URL gives one
        await client.initialize()  # the slot map, to find the channel's node
        pubsub = client.pubsub()
        await pubsub.ssubscribe(self.channel)
        return pubsub

    async def _next(self, pubsub: PubSub, timeout: float | None) -> dict[str, Any] | None:
        sharded = cast(ClusterPubSub, pubsub)
        message = await sharded.get_sharded_message(timeout=timeout)  # type: ignore[arg-type]
        if message is not None and message["type"] == "sunsubscribe":
            raise RedisConnectionError(
                f"Redis ended the subscription to {self.channel!r}: its slot moved to another node"
            )
        return message
