"""The bus's clients for each URL form, built without connecting, and the Sentinel
client's one-line "no master" error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import MasterNotFoundError, SentinelConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError

from sockd.config.io import RedisSettings
from sockd.worker.bus.lost_connection_parser import LostConnectionParser
from sockd.worker.bus.managers import redis_bus
from sockd.worker.bus.redis_clients import (
    CONNECT_TIMEOUT,
    SentinelMaster,
    Sentinels,
    bus_client,
)
from sockd.worker.bus.redis_pubsub import RedisPubSubBus
from sockd.worker.bus.redis_sharded_pubsub import RedisShardedPubSubBus
from sockd.worker.bus.redis_streams import RedisStreamsBus

SENTINEL_URL = "redis+sentinel://:pw@10.0.0.6:26379,10.0.0.7:26380/2/sockd"
CLUSTER_URL = "redis+cluster://:pw@10.0.0.6:7000,10.0.0.7:7001"


def test_one_server_gets_bounded_waits_no_retries_and_keepalive() -> None:
    client = bus_client("redis://:pw@10.0.0.5:6379/1", 3.0)
    kwargs = client.connection_pool.connection_kwargs
    assert type(client) is redis.asyncio.Redis
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (3.0, CONNECT_TIMEOUT)
    assert kwargs["retry"].get_retries() == 0 and kwargs["socket_keepalive"]
    assert kwargs["parser_class"] is LostConnectionParser
    assert (kwargs["host"], kwargs["db"], kwargs["password"]) == ("10.0.0.5", 1, "pw")


def test_sentinel_asks_each_sentinel_for_the_master_of_its_service() -> None:
    client = bus_client(SENTINEL_URL, 8.0)
    assert isinstance(client, SentinelMaster)
    pool = client.connection_pool
    assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "sockd"
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["socket_timeout"]) == (2, "pw", 8.0)
    assert kwargs["retry"].get_retries() == 0 and kwargs["parser_class"] is LostConnectionParser
    asked = [s.connection_pool.connection_kwargs for s in pool.sentinel_manager.sentinels]
    assert [(a["host"], a["port"]) for a in asked] == [("10.0.0.6", 26379), ("10.0.0.7", 26380)]
    # The Sentinels answer at once or not at all; they have no password here (as in
    # python-socketio: the URL's is the data nodes').
    assert all(a["socket_timeout"] == CONNECT_TIMEOUT and a.get("password") is None for a in asked)


def test_cluster_starts_from_the_nodes_given() -> None:
    client = bus_client(CLUSTER_URL, 3.0)
    assert isinstance(client, RedisCluster)
    nodes = client.nodes_manager.startup_nodes
    assert sorted(nodes) == ["10.0.0.6:7000", "10.0.0.7:7001"]
    kwargs = client.nodes_manager.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["password"]) == (3.0, "pw")
    assert client.retry.get_retries() == 0


@pytest.mark.parametrize(
    ("url", "bus", "kind"),
    [
        ("redis://r/0", "pubsub", RedisPubSubBus),
        (SENTINEL_URL, "pubsub", RedisPubSubBus),
        (CLUSTER_URL, "pubsub", RedisShardedPubSubBus),
        (CLUSTER_URL, "streams", RedisStreamsBus),
        (SENTINEL_URL, "streams", RedisStreamsBus),
    ],
)
def test_pubsub_on_a_cluster_is_sharded(url: str, bus: str, kind: type) -> None:
    assert type(redis_bus(url, RedisSettings(bus=bus))) is kind


class Answers:
    """A Sentinel's client that answers SENTINEL MASTERS with ``masters``, or fails."""

    def __init__(self, host: str, masters: dict[str, Any] | Exception) -> None:
        self.connection_pool = type("Pool", (), {"connection_kwargs": {"host": host, "port": 1}})
        self._masters = masters

    async def sentinel_masters(self) -> dict[str, Any]:
        if isinstance(self._masters, Exception):
            raise self._masters
        return self._masters


def _state(ip: str, up: bool = True) -> dict[str, Any]:
    return {
        "ip": ip, "port": 6379, "is_master": True, "is_sdown": not up, "is_odown": False,
        "num-other-sentinels": 2,
    }  # fmt: skip


def test_no_master_is_one_line_saying_what_each_sentinel_answered() -> None:
    sentinels = Sentinels([])
    sentinels.sentinels = [
        Answers("s1", RedisConnectionError("Connection refused.")),
        Answers("s2", {"other": _state("10.0.0.9")}),
        Answers("s3", {"sockd": _state("10.0.0.6", up=False)}),
    ]
    with pytest.raises(MasterNotFoundError) as missing:
        asyncio.run(sentinels.discover_master("sockd"))
    assert str(missing.value) == (
        "no Sentinel names an up master 'sockd' (s1:1: Connection refused.; "
        "s2:1: no master named so; s3:1: 10.0.0.6:6379 is down)"
    )


def test_the_sentinel_that_named_the_master_is_asked_first_next_time() -> None:
    sentinels = Sentinels([])
    down = Answers("s1", RedisConnectionError("Connection refused."))
    named = Answers("s2", {"sockd": _state("10.0.0.7")})
    sentinels.sentinels = [down, named]
    assert asyncio.run(sentinels.discover_master("sockd")) == ("10.0.0.7", 6379)
    assert sentinels.sentinels == [named, down]
