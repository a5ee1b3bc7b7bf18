"""The pub/sub bus on a Redis Cluster: a shard publish that reached nobody is sent again.

No Redis here: the publisher is a pipeline that answers what SPUBLISH would.
"""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from sockd.config.io import RedisSettings
from sockd.worker.bus.outbound_queue import Outgoing
from sockd.worker.bus.redis_sharded_pubsub import RedisShardedPubSubBus

CLUSTER_URL = "redis+cluster://10.0.0.6:7000"


class Pipeline:
    """Answers a pipeline of SPUBLISH with how many subscribers each reached."""

    def __init__(self, receivers: list[int]) -> None:
        self.receivers = receivers
        self.sent: list[tuple[str, str]] = []

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def spublish(self, channel: str, payload: str) -> None:
        self.sent.append((channel, payload))

    async def execute(self) -> list[int]:
        return self.receivers


@pytest.mark.parametrize(("receivers", "delivered"), [([2, 1], True), ([2, 0], False)])
def test_a_shard_publish_that_reached_nobody_is_sent_again(
    receivers: list[int], delivered: bool
) -> None:
    """Not even this worker's own subscription got it: the slot moved under the publish."""
    bus = RedisShardedPubSubBus(CLUSTER_URL, RedisSettings(bus="pubsub"))
    pipeline = Pipeline(receivers)
    bus._publisher = type("Publisher", (), {"pipeline": lambda self, transaction: pipeline})()
    batch = [Outgoing(1, "a"), Outgoing(2, "b")]
    if delivered:
        asyncio.run(bus._send(batch))
    else:
        with pytest.raises(RedisConnectionError, match="reached no subscriber"):
            asyncio.run(bus._send(batch))
    assert pipeline.sent == [("socketio", "a"), ("socketio", "b")]
