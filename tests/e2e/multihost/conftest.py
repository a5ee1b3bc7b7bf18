"""Fixtures of the multi-host tests: a private network, Redis, three sockd hosts, HAProxy.

Built once for the package and removed at its end, even after a failure: processes by pid,
then the namespaces (which takes every link with them). Where namespaces cannot be made
(not root, no ``ip``, a sandbox that refuses), each test module skips itself at collection
(``require_namespaces``), all with one reason on one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.haproxy import running_haproxy
from tests.e2e.multihost.hosts import SockdHost
from tests.e2e.multihost.network import HOSTS, REDIS, Network, private_network
from tests.e2e.multihost.redis_servers import (
    SentinelTrio,
    redis_cluster,
    running_redis,
    sentinel_trio,
)

#: Client source addresses: 10.0.1.1 - 10.0.2.254.
SOURCES = 508


@pytest.fixture(scope="package")
def network() -> Iterator[Network]:
    with private_network(SOURCES) as net:
        yield net


@pytest.fixture(scope="package")
def redis_url(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(network, tmp_path_factory.mktemp("redis")):
        yield f"redis://{REDIS}:6379/0"


@pytest.fixture(scope="package")
def sockd_hosts(
    network: Network, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, SockdHost]]:
    runtime = tmp_path_factory.mktemp("rt")
    hosts = {role: SockdHost(network, role, runtime / role, redis_url) for role in HOSTS}
    try:
        yield hosts
    finally:
        for host in hosts.values():
            host.kill_all()
        for host in hosts.values():
            for process in host.history:
                print(f"--- {host.role}: sockd {' '.join(process.args)} (pid {process.pid}) ---")
                print(process.output_tail(40))


@pytest.fixture(scope="package")
def cluster_once(
    network: Network,
    sockd_hosts: dict[str, SockdHost],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    with running_haproxy(network.ns("lb"), tmp_path_factory.mktemp("haproxy")) as balancer:
        cluster = Cluster(network, sockd_hosts, balancer)
        try:
            yield cluster
        finally:
            print("--- HAProxy ---\n" + balancer.log()[-3000:])


@pytest.fixture
def cluster(cluster_once: Cluster) -> Cluster:
    """The cluster, whole again: every host up and seen up by HAProxy."""
    cluster_once.heal()
    return cluster_once


@pytest.fixture
def sentinels(network: Network, tmp_path: Path) -> Iterator[SentinelTrio]:
    """A Redis master, two replicas and three Sentinels on private addresses."""
    with sentinel_trio(network, tmp_path) as trio:
        yield trio


@pytest.fixture
def cluster_nodes(network: Network, tmp_path: Path) -> Iterator[list[tuple[str, int]]]:
    """A Redis Cluster of three masters on private addresses (no replicas)."""
    with redis_cluster(network, tmp_path) as nodes:
        yield nodes
