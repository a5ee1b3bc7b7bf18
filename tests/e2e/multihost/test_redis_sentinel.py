"""The Redis bus through Sentinel (``redis+sentinel://``), across two hosts, with each bus.

A Sentinel trio watches a master and two replicas (redis_servers.py). Broadcasts cross
hosts and workers through the master the Sentinels name; when that master's redis-server
is killed under traffic, the Sentinels promote a replica and the bus follows: nothing
arrives twice or out of order, no client is disconnected, each worker logs the outage
once, what a worker lost is what it counted (``missed``), and cluster calls (``sockd
status``'s cluster section) still reach every worker of both hosts. The figures (the gap,
the loss) are printed; docs/multi-host.md quotes them.

A master the Sentinels name but a host cannot reach (its route cut) stops that host's
first start with one line, and, while it runs, degrades only that host's bus (one log line
per worker); the Streams bus delivers what it kept once the master is reachable again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.multihost.clients import run_in
from tests.e2e.multihost.ha_bus import (
    OUTAGE_LINE,
    PORT,
    assert_cluster_calls_cross,
    assert_unharmed,
    bus_figures,
    bus_lines,
    hosts_on,
    report,
    traffic_through,
)
from tests.e2e.multihost.hosts import SockdHost
from tests.e2e.multihost.netns import ip, require_namespaces
from tests.e2e.multihost.network import Network
from tests.e2e.multihost.redis_servers import MASTER_NAME, SentinelTrio, sentinel_master

require_namespaces()

#: Client addresses of this module (10.0.2.169 on).
SOURCES = slice(422, 502)
#: Generous: down-after 1 s, then an election and a promotion.
FAILOVER_BOUND = 30.0
#: Seconds the route from h1 to the master stays cut.
CUT = 6.0


def sentinel_url(trio: SentinelTrio) -> str:
    sentinels = ",".join(f"{address}:{port}" for address, port in trio.sentinels)
    return f"redis+sentinel://{sentinels}/0/{MASTER_NAME}"


@pytest.mark.timeout(150)
@pytest.mark.parametrize("bus", ["streams", "pubsub"])
def test_a_failover_under_cross_host_traffic(
    network: Network, sentinels: SentinelTrio, tmp_path: Path, bus: str
) -> None:
    async def failover() -> str:
        killed = sentinels.servers[sentinels.master]
        since = time.monotonic()
        await asyncio.to_thread(killed.kill)  # SIGKILL, by pid
        await asyncio.to_thread(killed.wait, 5)
        while time.monotonic() - since < FAILOVER_BOUND:
            address = await asyncio.to_thread(sentinel_master, network, sentinels)
            if address in sentinels.replicas:
                return f"master killed, {address} promoted after {time.monotonic() - since:.1f} s"
            await asyncio.sleep(0.05)
        raise AssertionError(f"no replica promoted within {FAILOVER_BOUND} s")

    with hosts_on(network, tmp_path, sentinel_url(sentinels), bus) as hosts:
        pids = {host.role: _slots(host) for host in hosts}
        sources = network.sources[SOURCES]
        run = run_in(network, lambda: traffic_through(hosts, sources, failover), 100)
        assert_unharmed(hosts, pids, run)
        figures = bus_figures(hosts)
        lost = report(f"Sentinel failover, {bus}", run, figures)
        assert_cluster_calls_cross(hosts)
        outages = bus_lines(hosts, OUTAGE_LINE)

    assert outages == dict.fromkeys(figures, 1), f"outage lines per worker: {outages}"
    for pid, count in lost.items():
        assert figures[pid]["state"] == "connected", figures
        assert figures[pid]["missed"] == count, (pid, figures, count)
    if bus == "streams":  # the queue keeps what could not reach a master meanwhile
        sent_at = {(c.sender, c.number): c.sent_at for c in run.traffic.calls}
        lost_keys = set().union(*run.traffic.lost_by_worker().values())
        late = [key for key in lost_keys if sent_at[key] >= run.began]
        assert not late, f"{len(late)} broadcasts sent after the master was killed were lost"


@pytest.mark.timeout(150)
def test_a_master_named_by_the_sentinels_that_a_host_cannot_reach(
    network: Network, sentinels: SentinelTrio, tmp_path: Path
) -> None:
    url = sentinel_url(sentinels)
    with cut_off(network, "h1", sentinels.master):
        refused = SockdHost(
            network, "h1", tmp_path / "refused", url, PORT, "ha-refused", health_port=PORT + 1
        ).launch()
        assert refused.proc.wait(30) == 3, refused.output_tail()
    errors = [line for line in refused.lines() if line.startswith("sockd: error:")]
    assert len(errors) == 1 and not [line for line in refused.lines() if "Traceback" in line]
    assert f"{sentinels.master}:6379" in errors[0] and "No route to host" in errors[0], errors
    print(f"\nfirst start, master unreachable: {errors[0]}")

    async def cut() -> str:
        await asyncio.to_thread(_route, network, "h1", "add", sentinels.master)
        try:
            await asyncio.sleep(CUT)
        finally:
            await asyncio.to_thread(_route, network, "h1", "del", sentinels.master)
        return f"h1 cut off from the master for {CUT:.0f} s"

    with hosts_on(network, tmp_path / "running", url, "streams") as hosts:
        pids = {host.role: _slots(host) for host in hosts}
        sources = network.sources[SOURCES]
        run = run_in(network, lambda: traffic_through(hosts, sources, cut), 100)
        assert_unharmed(hosts, pids, run)
        figures = bus_figures(hosts)
        lost = report("Sentinel, master unreachable from one host, streams", run, figures)
        outages = bus_lines(hosts, OUTAGE_LINE)
        h1 = set(_slots(hosts[0]).values())

    assert outages == dict.fromkeys(h1, 1), f"outage lines per worker: {outages}"
    assert not any(lost.values()), f"lost per worker: {lost}"
    assert all(f["state"] == "connected" and not f["missed"] for f in figures.values()), figures


@contextlib.contextmanager
def cut_off(net: Network, role: str, address: str) -> Iterator[None]:
    """``role`` has no route to ``address`` meanwhile (connects fail at once)."""
    _route(net, role, "add", address)
    try:
        yield
    finally:
        _route(net, role, "del", address)


def _route(net: Network, role: str, verb: str, address: str) -> None:
    ip("route", verb, "unreachable", f"{address}/32", namespace=net.ns(role))


def _slots(host: SockdHost) -> dict[int, int]:
    assert host.process is not None
    return host.process.slot_pids()
