"""Clients through HAProxy spread over every host and, inside each host, over every worker.

HAProxy picks the host from the client's address (``balance source``) and tells the host
that address in a PROXY v2 header; the host's master picks the worker from it. Each
client asks where it landed, and ``sockd status --json`` inside each host's namespace must
count exactly those sessions on exactly those workers.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest

from tests.e2e.multihost.clients import close_all
from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.hosts import WORKERS
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.network import BALANCER
from tests.harness import ALL_TRANSPORTS, Client, gather_bounded

require_namespaces()

CLIENTS = 150


def sessions_by_worker(cluster: Cluster) -> dict[int, int]:
    """worker pid -> Engine.IO sessions it reports, over every host (``sockd status``)."""
    counts: dict[int, int] = {}
    for host in cluster.hosts.values():
        for row in host.status()["workers"]:
            if row["serving"]:
                counts[row["pid"]] = row["sessions"] or 0
    return counts


@pytest.mark.timeout(120)
def test_clients_spread_over_every_host_and_worker(cluster: Cluster) -> None:
    sources = cluster.net.sources[:CLIENTS]
    host_of = cluster.host_of()

    async def scenario() -> tuple[list[dict[str, Any]], dict[int, int]]:
        clients = [
            Client(80, ip, ALL_TRANSPORTS[i % 3], host=BALANCER) for i, ip in enumerate(sources)
        ]
        try:
            results = await gather_bounded((c.connect() for c in clients), 16)
            failed = [r for r in results if isinstance(r, BaseException)]
            assert not failed, f"{len(failed)} clients failed to connect: {failed[0]!r}"
            infos = list(await asyncio.gather(*(c.whoami() for c in clients)))
            expected = Counter(info["pid"] for info in infos)
            # Workers report their sessions every second; wait for the reports to agree.
            deadline = time.monotonic() + 20
            while (reported := await asyncio.to_thread(sessions_by_worker, cluster)) != expected:
                assert time.monotonic() < deadline, (reported, expected)
                await asyncio.sleep(0.5)
            return infos, reported
        finally:
            await close_all(clients)

    infos, reported = cluster.run(scenario, 100)
    for source, info in zip(sources, infos, strict=True):
        assert info["client"] == source, "the app must see the address from the PROXY header"
        assert host_of[info["pid"]] == info["host"], info
    per_host = Counter(info["host"] for info in infos)
    print(f"\n{CLIENTS} clients over hosts: {dict(sorted(per_host.items()))}")
    for role in sorted(cluster.hosts):
        workers = {pid: n for pid, n in reported.items() if host_of.get(pid) == role}
        print(f"  {role}: sessions per worker {sorted(workers.values())}")
        assert len(workers) == WORKERS and all(workers.values()), (role, workers)
    assert set(per_host) == set(cluster.hosts)
