"""The highly available Redis topologies the bus will run on, checked with redis-py alone.

sockd's bus does not speak Sentinel or Cluster yet (that comes with the bus rework); these
tests keep the fixtures honest so the bus's tests can use them: the Sentinel trio fails
over to a replica that has the data, and the Cluster's three masters share the keys and
carry sharded pub/sub (SSUBSCRIBE / SPUBLISH), from the client namespace.
"""

from __future__ import annotations

import time

import pytest
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.sentinel import MasterNotFoundError, Sentinel

from tests.e2e.multihost.netns import call_in, require_namespaces
from tests.e2e.multihost.network import Network
from tests.e2e.multihost.redis_servers import MASTER_NAME, REDIS_PORT, SentinelTrio

require_namespaces()

#: Generous: down-after 1 s, then an election and a promotion.
FAILOVER_BOUND = 30.0


@pytest.mark.timeout(90)
def test_sentinel_trio_fails_over_to_a_replica(network: Network, sentinels: SentinelTrio) -> None:
    sentinel = Sentinel(sentinels.sentinels, socket_timeout=1)

    def write() -> None:
        assert sentinel.discover_master(MASTER_NAME) == (sentinels.master, REDIS_PORT)
        master = sentinel.master_for(MASTER_NAME, socket_timeout=1)
        master.set("written-before", "yes")
        # WAIT blocks for its timeout at most, which must stay under the socket's.
        assert any(master.wait(2, 500) == 2 for _ in range(20)), "both replicas have it"

    def promoted(since: float) -> tuple[str, float]:
        while time.monotonic() - since < FAILOVER_BOUND:
            try:
                address, _ = sentinel.discover_master(MASTER_NAME)
                if address in sentinels.replicas:
                    master = sentinel.master_for(MASTER_NAME, socket_timeout=1)
                    assert master.get("written-before") == b"yes"
                    return address, time.monotonic() - since
            except (MasterNotFoundError, RedisConnectionError, RedisTimeoutError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"no replica promoted within {FAILOVER_BOUND}s")

    client = network.ns("client")
    call_in(client, write, timeout=20)
    killed = sentinels.servers[sentinels.master]
    since = time.monotonic()
    killed.kill()
    killed.wait(5)
    address, elapsed = call_in(client, promoted, since, timeout=FAILOVER_BOUND + 10)
    print(f"\nSentinel: {address} became master {elapsed:.1f} s after the master was killed")


@pytest.mark.timeout(90)
def test_cluster_of_three_masters_shares_keys_and_sharded_pubsub(
    network: Network, cluster_nodes: list[tuple[str, int]]
) -> None:
    def check() -> dict[str, int]:
        nodes = [ClusterNode(address, port) for address, port in cluster_nodes]
        cluster = RedisCluster(startup_nodes=nodes, socket_timeout=2)
        try:
            primaries = cluster.get_primaries()
            assert sorted((n.host, n.port) for n in primaries) == sorted(cluster_nodes)
            for i in range(60):
                cluster.set(f"key{i}", i)
            keys = {n.host: cluster.execute_command("DBSIZE", target_nodes=n) for n in primaries}
            pubsub = cluster.pubsub()
            pubsub.ssubscribe("room")
            assert pubsub.get_sharded_message(timeout=5)["type"] == "ssubscribe"
            assert cluster.spublish("room", "hello") == 1
            message = pubsub.get_sharded_message(timeout=5)
            assert message is not None and message["data"] == b"hello", message
            pubsub.close()
            return keys
        finally:
            cluster.close()

    keys = call_in(network.ns("client"), check, timeout=60)
    print(f"\nCluster: 60 keys over the masters {keys}")
    assert len(keys) == 3 and all(keys.values()), keys
