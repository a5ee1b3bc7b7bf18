"""Fan-out across hosts against one host: a measurement, printed, not asserted.

One sender broadcasts to a room whose receivers are spread evenly over the three hosts
(through HAProxy, the documented config), at capacity: the benchmark's closed loop
(bench/scenarios/fanout.py: a few broadcasts in flight, the next one sent when one has
reached every receiver) for a bounded time, with its thin load generator (bench/loadgen/).
The same receivers and sender then meet one sockd host with the same six workers (on h1,
on a Redis database of its own, behind a HAProxy of its own with that one server); the two
alternate for a few rounds. Printed: deliveries/s of each and their ratio, the server CPU
per delivery (sockd, Redis and HAProxy processes), and the load generator's own CPU. All
hosts share this machine's cores, so the ratio is what spreading the workers over hosts
costs, not what more machines would add. Asserted: every receiver got deliveries, none twice.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from bench.budget import Budget
from bench.loadgen.meters import cpu_seconds
from bench.loadgen.ws_session import EventHandler, WsSession, close_all
from bench.scenarios.fanout import ROOM, Deliveries, capacity
from tests.e2e.multihost.clients import sources_by_host
from tests.e2e.multihost.cluster import Cluster, Deployment, deployed
from tests.e2e.multihost.hosts import WORKERS
from tests.e2e.multihost.netns import pids_in, require_namespaces
from tests.e2e.multihost.network import BALANCER, Network
from tests.harness import gather_bounded

require_namespaces()

#: Receivers on each of the three hosts (the same ones meet the single host).
PER_HOST = 50
ROUNDS = 2
#: Seconds at capacity per run, broadcasts in flight; a delivery 2 s late counts as lost.
BUDGET = Budget(
    rounds=ROUNDS, fanout_seconds=2.0, fanout_window=32, fanout_loss_after=2.0, fanout_drain=10.0
)
ONE_HOST = Deployment(("h1",), sockd_port=7301, frontend_port=8083, redis_db=1, workers=3 * WORKERS)


@pytest.fixture
def one_host(
    network: Network, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """One sockd of six workers on h1, behind its own HAProxy."""
    with deployed(network, ONE_HOST, tmp_path_factory.mktemp("fanout")) as host:
        yield host


class Run:
    """One run at capacity: what the capacity loop returned, the server CPU it took, and
    what each receiver got."""

    def __init__(self, receivers: list[str]) -> None:
        self.got = Deliveries(len(receivers))
        self.per_receiver: Counter[str] = Counter()
        self.figures: dict[str, float] = {}

    def handler(self, source: str) -> EventHandler:
        def on_event(name: str, args: list[Any]) -> None:
            if name == "fan":
                self.per_receiver[source] += 1
            self.got.on_event(name, args)

        return on_event

    @property
    def duplicates(self) -> int:
        receivers = self.got.receivers
        return sum(max(0, count - receivers) for count in self.got.counts.values())


async def measure(system: Cluster, receivers: list[str], sender_source: str) -> Run:
    """The room's receivers and a sender through ``system``'s balancer, one capacity run."""
    run = Run(receivers)
    port = system.balancer.port
    opened = await gather_bounded(
        (WsSession.open(port, ip, host=BALANCER, on_event=run.handler(ip)) for ip in receivers),
        32,
    )
    sessions = [s for s in opened if isinstance(s, WsSession)]
    try:
        assert len(sessions) == len(receivers), [e for e in opened if not isinstance(e, WsSession)]
        async with asyncio.timeout(30):
            await asyncio.gather(*(s.call("join", ROOM) for s in sessions))
        sender = await WsSession.open(port, sender_source, host=BALANCER)
        sessions.append(sender)
        processes = server_processes(system)
        cpu, delivered = cpu_seconds(processes), run.got.capacity_total
        run.figures = await capacity(sender, run.got, BUDGET)
        delivered = run.got.capacity_total - delivered
        run.figures["cpu_us"] = 1e6 * (cpu_seconds(processes) - cpu) / max(1, delivered)
    finally:
        await close_all(sessions)
    return run


def server_processes(system: Cluster) -> list[psutil.Process]:
    """sockd's (masters and workers), Redis's and the balancer's processes."""
    processes = [
        p for host in system.hosts.values() if host.process for p in host.process.tracked()
    ]
    redis = [psutil.Process(pid) for pid in pids_in(system.net.ns("redis"))]
    return [*processes, *redis, psutil.Process(system.balancer.proc.pid)]


@pytest.mark.timeout(150)
def test_cross_host_fanout_against_one_host(cluster: Cluster, one_host: Cluster) -> None:
    systems = {"three hosts": cluster, "one host": one_host}

    async def scenario() -> dict[str, list[Run]]:
        groups = await sources_by_host(cluster.net.sources[:300])
        receivers = [ip for role in sorted(groups) for ip in groups[role][:PER_HOST]]
        assert len(receivers) == 3 * PER_HOST, {role: len(s) for role, s in groups.items()}
        sender = cluster.net.sources[-1]
        runs: dict[str, list[Run]] = {label: [] for label in systems}
        for round_ in range(ROUNDS):
            order = list(systems) if round_ % 2 == 0 else list(reversed(systems))
            for label in order:
                runs[label].append(await measure(systems[label], receivers, sender))
        return runs

    runs = cluster.run(scenario, 130)
    print(report(runs))
    for label, measured in runs.items():
        for run in measured:
            assert len(run.per_receiver) == 3 * PER_HOST, f"{label}: a receiver got nothing"
            assert run.duplicates == 0, f"{label}: {run.duplicates} deliveries twice"


def report(runs: dict[str, list[Run]]) -> str:
    """The figures docs/multi-host.md quotes."""

    def median(label: str, key: str) -> float:
        return statistics.median(run.figures[key] for run in runs[label])

    lines = [
        f"\nfan-out at capacity: {3 * PER_HOST} receivers, one sender, "
        f"{BUDGET.fanout_window} broadcasts in flight, {BUDGET.fanout_seconds:g} s per run, "
        f"{ROUNDS} runs each, alternating"
    ]
    for label, workers in (("three hosts", f"{WORKERS} workers each"), ("one host", "6 workers")):
        rates = ", ".join(f"{run.figures['fanout_max_per_s']:,.0f}" for run in runs[label])
        lost = sum(int(run.figures["fanout_max_lost"]) for run in runs[label])
        lines.append(
            f"  {label} ({workers}): {median(label, 'fanout_max_per_s'):,.0f} deliveries/s "
            f"(runs: {rates}), server CPU {median(label, 'cpu_us'):.1f} us per delivery, "
            f"load generator {median(label, 'fanout_loadgen_cpu'):.2f} cores, {lost} lost"
        )
    ratio = median("three hosts", "fanout_max_per_s") / median("one host", "fanout_max_per_s")
    lines.append(f"  three hosts / one host: {ratio:.2f}x deliveries/s")
    return "\n".join(lines)
