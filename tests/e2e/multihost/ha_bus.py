"""Two sockd hosts on a highly available Redis (Sentinel, Cluster), room traffic across
their four workers, and what an event on the Redis side cost it.

The hosts run beside the package's own (another port and title, the same namespaces) and
the clients connect to them directly, from the client namespace, each from an address of
its own (the master keys an untrusted peer by its address). Every member of one room
broadcasts to it at a steady pace (tests/e2e/bus_traffic.py); the scenario runs an event
(a failover, a slot migration) in the middle and reports the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.bus_traffic import Traffic, members_on
from tests.e2e.multihost.hosts import WORKERS, SockdHost
from tests.e2e.multihost.network import Network

#: The port (and the next one, for /health) and the titles of these hosts' sockd, apart
#: from the package's own.
PORT = 7101
ROLES = ("h1", "h2")
#: Room members (and senders) on each worker.
PER_WORKER = 2
#: Candidate client addresses per host (the sticky hash decides the worker).
CANDIDATES = 40
#: Seconds of traffic before the event, and after it.
BEFORE, AFTER = 2.0, 8.0
#: Log lines of the bus: an outage's first line, and a move of the stream's slot.
OUTAGE_LINE, MOVED_LINE = "redis bus: cannot reach Redis", "redis bus: socketio:stream moved"


@contextlib.contextmanager
def hosts_on(net: Network, runtime: Path, url: str, bus: str) -> Iterator[list[SockdHost]]:
    """sockd (2 workers) on h1 and h2 with ``--redis url`` and ``[io.redis] bus``; killed
    by pid on exit, their logs printed."""
    env = {"SOCKD_IO_REDIS_BUS": bus}
    hosts = [
        SockdHost(net, role, runtime / role, url, PORT, f"ha-{role}", env, health_port=PORT + 1)
        for role in ROLES
    ]
    try:
        for process in [host.launch() for host in hosts]:
            process.wait_ready(60)
        yield hosts
    finally:
        for host in hosts:
            host.kill_all()
        for host in hosts:
            for process in host.history:
                print(f"--- {host.role}: sockd {' '.join(process.args)} ---")
                print(process.output_tail(30))


@dataclass
class Outcome:
    """The traffic, when the event began, what it returned, and the workers' pids."""

    traffic: Traffic
    began: float
    ended: float
    event: Any
    #: worker pid -> host role.
    host_of: dict[int, str]


async def traffic_through(
    hosts: list[SockdHost], sources: list[str], event: Callable[[], Awaitable[Any]]
) -> Outcome:
    """Room traffic among members on every worker of ``hosts``, with ``event()`` run in
    the middle (in the client namespace's loop; blocking work goes to a thread)."""
    async with contextlib.AsyncExitStack() as stack:
        members = []
        for index, host in enumerate(hosts):
            candidates = sources[index * CANDIDATES : (index + 1) * CANDIDATES]
            on_host = members_on(PORT, WORKERS, candidates, PER_WORKER, host=host.address)
            members += await stack.enter_async_context(on_host)
        infos = await asyncio.gather(*(m.whoami() for m in members))
        traffic = Traffic(members, {i: int(info["pid"]) for i, info in enumerate(infos)})
        host_of = {int(info["pid"]): str(info["host"]) for info in infos}
        await traffic.join()
        stop = asyncio.Event()
        sending = asyncio.ensure_future(traffic.run(stop))
        await asyncio.sleep(BEFORE)
        began = time.monotonic()
        result = await event()
        await asyncio.sleep(AFTER)
        stop.set()
        await sending
        ended = time.monotonic()
        await traffic.settle()
    return Outcome(traffic, began, ended, result, host_of)


def bus_figures(hosts: list[SockdHost]) -> dict[int, dict[str, Any]]:
    """worker pid -> its bus figures in ``sockd status --json``, on every host."""
    rows = [row for host in hosts for row in host.status()["workers"]]
    return {row["pid"]: row["bus"] for row in rows if row.get("bus")}


def assert_unharmed(hosts: list[SockdHost], pids: dict[str, dict[int, int]], run: Outcome) -> None:
    """No master exited, no worker restarted, no client disconnected, nothing arrived
    twice or out of its sender's order, and the bus came back everywhere."""
    traffic = run.traffic
    for host in hosts:
        assert host.running, f"{host}: the master exited"
        assert host.process is not None and host.process.slot_pids() == pids[host.role], host
    assert not traffic.disconnected, f"disconnected: {traffic.disconnected}"
    duplicates = {i: traffic.duplicates(i) for i in traffic.arrivals}
    assert not any(duplicates.values()), f"duplicates per member: {duplicates}"
    late = {i: traffic.out_of_order(i) for i in traffic.arrivals}
    assert not any(late.values()), f"out of publish order, per member: {late}"
    assert run.traffic.resumed_after(run.began) is not None, "delivery across workers never resumed"


def assert_cluster_calls_cross(hosts: list[SockdHost], bound: float = 15.0) -> None:
    """``sockd status`` on the first host gathers its cluster section from every worker of
    both hosts (sockd.cluster's requests ride the bus, its answers reply channels of their
    own on the same Redis). Bounded: after a failover the members announce themselves
    again within seconds."""
    deadline = time.monotonic() + bound
    while True:
        census = hosts[0].status().get("cluster", {})
        if census.get("members") == WORKERS * len(hosts) and not census.get("missing"):
            return
        assert time.monotonic() < deadline, f"cluster section of sockd status: {census}"
        time.sleep(0.5)


def bus_lines(hosts: list[SockdHost], text: str) -> dict[int, int]:
    """worker pid -> how many of its log lines contain ``text``."""
    counts: dict[int, int] = {}
    for host in hosts:
        assert host.process is not None
        for line in host.process.lines():
            if text in line:
                pid = int(line.split("[", 2)[1].split("]", 1)[0])
                counts[pid] = counts.get(pid, 0) + 1
    return counts


def report(name: str, run: Outcome, figures: dict[int, dict[str, Any]]) -> dict[int, int]:
    """Print the figures of one run; worker pid -> broadcasts from other workers it lost
    (acked, never received)."""
    traffic = run.traffic
    lost = {pid: len(missing) for pid, missing in traffic.lost_by_worker().items()}
    cross_host = [
        delay
        for member in traffic.arrivals
        for delay in traffic.delays(
            [member],
            [s for s in traffic.arrivals if _host(run, s) != _host(run, member)],
        )
    ]
    acked = sum(1 for call in traffic.calls if call.acked_at is not None)
    print(
        f"\n{name}: {len(traffic.calls)} broadcasts ({acked} acked) among {len(traffic.members)}"
        f" members on 2 hosts x 2 workers; event {run.event}; longest time without a "
        f"broadcast from another worker {traffic.longest_gap(run.began, run.ended):.2f} s, "
        f"delivery across workers resumed {traffic.resumed_after(run.began):.2f} s after the "
        f"event began; lost per worker {lost}, counted missed "
        f"{ {pid: f['missed'] for pid, f in figures.items()} }, resends dropped "
        f"{ {pid: f['duplicates'] for pid, f in figures.items()} }; {len(cross_host)} cross-host "
        f"deliveries, median {statistics.median(cross_host) * 1000:.1f} ms"
    )
    return lost


def _host(run: Outcome, member: int) -> str:
    return run.host_of[run.traffic.worker[member]]
