"""The Redis bus on a Redis Cluster (``redis+cluster://``), across two hosts, with each bus.

Three masters share the slots (redis_servers.py). The Streams bus's one key and the
pub/sub bus's one shard channel each live on the master that owns their slot; broadcasts
cross hosts and workers through it exactly once. Then that slot migrates to another master
under traffic (IMPORTING, MIGRATING, MIGRATE, SETSLOT NODE, as ``redis-cli --cluster
reshard`` does): redis-py follows the MOVED and ASK redirections, the Streams bus loses
nothing and says once per worker that the stream moved, and the sharded pub/sub bus,
whose subscriptions Redis ends when the slot leaves, logs that once per worker,
subscribes on the new owner and counts what it lost. Cluster calls (``sockd status``'s
cluster section, whose answers go on sharded reply channels) reach every worker of both
hosts. The figures are printed; docs/multi-host.md quotes them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.multihost.clients import run_in
from tests.e2e.multihost.ha_bus import (
    MOVED_LINE,
    OUTAGE_LINE,
    assert_cluster_calls_cross,
    assert_unharmed,
    bus_figures,
    bus_lines,
    hosts_on,
    report,
    traffic_through,
)
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.network import Network
from tests.e2e.multihost.redis_servers import move_slot_of

require_namespaces()

#: Client addresses of this module (10.0.2.169 on; the Sentinel tests' too: never at once).
SOURCES = slice(422, 502)
#: The key whose slot the bus lives on: its stream, or its shard channel.
BUS_KEY = {"streams": "socketio:stream", "pubsub": "socketio"}


@pytest.mark.timeout(150)
@pytest.mark.parametrize("bus", ["streams", "pubsub"])
def test_a_slot_migration_under_cross_host_traffic(
    network: Network, cluster_nodes: list[tuple[str, int]], tmp_path: Path, bus: str
) -> None:
    url = "redis+cluster://" + ",".join(f"{address}:{port}" for address, port in cluster_nodes[:2])

    async def migrate() -> str:
        old, new = await asyncio.to_thread(move_slot_of, network, cluster_nodes, BUS_KEY[bus])
        return f"the slot of {BUS_KEY[bus]} migrated from {old} to {new}"

    with hosts_on(network, tmp_path, url, bus) as hosts:
        pids = {host.role: host.process.slot_pids() for host in hosts if host.process}
        sources = network.sources[SOURCES]
        run = run_in(network, lambda: traffic_through(hosts, sources, migrate), 100)
        assert_unharmed(hosts, pids, run)
        figures = bus_figures(hosts)
        lost = report(f"Cluster slot migration, {bus}", run, figures)
        assert_cluster_calls_cross(hosts)
        logged = bus_lines(hosts, MOVED_LINE if bus == "streams" else OUTAGE_LINE)

    assert logged == dict.fromkeys(figures, 1), f"lines about the move, per worker: {logged}"
    for pid, count in lost.items():
        assert figures[pid]["state"] == "connected", figures
        assert figures[pid]["missed"] == count, (pid, figures, count)
    if bus == "streams":
        assert not any(lost.values()), f"lost per worker: {lost}"
