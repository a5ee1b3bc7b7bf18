"""Redis stopped, stalled (SIGSTOP) and restarted under cross-worker traffic, with each bus.

Whatever Redis does, no worker or master exits, no watchdog kills, no client is
disconnected, nothing arrives twice, and the app's acked events are answered while Redis
is stalled. With the Streams bus nothing is lost either; with pub/sub what a worker missed
while it was resubscribing is what it counts (``sockd status``: ``missed``). Each test
prints its figures (run with ``-s`` to see them).
"""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from tests.e2e.bus_traffic import CANDIDATES, Traffic, members_on
from tests.harness import (
    RedisServer,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    open_clients,
    sockd_status,
)

#: Room members (and senders) on each of the two workers.
PER_WORKER = 3
#: Seconds of traffic before the outage, and after Redis is back (readers reconnect within
#: about two seconds, then the queues drain).
BEFORE, AFTER = 1.5, 5.0
OUTAGES = {"stop": 5.0, "stall": 10.0, "restart": 0.0}


def _disrupt(redis: RedisServer, kind: str) -> None:
    if kind == "stop":
        redis.stop()
    elif kind == "stall":
        redis.pause()
    else:
        redis.restart()


def _restore(redis: RedisServer, kind: str) -> None:
    if kind == "stop":
        redis.start()
    elif kind == "stall":
        redis.resume()


def bus_figures(server: SockdProcess) -> dict[int, dict[str, int]]:
    """worker pid -> its bus figures in ``sockd status --json``."""
    status = sockd_status("--title", f"sockd-{server.port}")
    return {row["pid"]: row["bus"] for row in status["workers"] if row.get("bus")}


def assert_unharmed(server: SockdProcess, pids: dict[int, int], traffic: Traffic) -> None:
    """No exit, no restart, no watchdog kill, no client disconnected, no duplicate, and
    each sender's broadcasts in the order they were sent."""
    assert server.proc.poll() is None, "the master exited"
    assert server.slot_pids() == pids, "a worker was restarted"
    kills = [line for line in server.lines() if "killing it" in line]
    assert not kills, kills
    assert not traffic.disconnected, f"disconnected: {traffic.disconnected}"
    duplicates = {i: traffic.duplicates(i) for i in traffic.arrivals}
    assert not any(duplicates.values()), f"duplicates per member: {duplicates}"
    late = {i: traffic.out_of_order(i) for i in traffic.arrivals}
    assert not any(late.values()), f"out of publish order, per member: {late}"


async def outage_under_traffic(
    server: SockdProcess, redis: RedisServer, kind: str, sources: list[str]
) -> tuple[Traffic, float, float]:
    """Traffic across workers through one outage; (traffic, outage start, Redis back)."""
    async with members_on(server.port, 2, sources, PER_WORKER) as members:
        infos = await asyncio.gather(*(m.whoami() for m in members))
        traffic = Traffic(members, {i: int(info["pid"]) for i, info in enumerate(infos)})
        await traffic.join()
        stop = asyncio.Event()
        sending = asyncio.ensure_future(traffic.run(stop))
        await asyncio.sleep(BEFORE)
        await asyncio.to_thread(_disrupt, redis, kind)
        # From here Redis is gone (or frozen): a broadcast sent while it was still exiting
        # may have been taken and not read, which a Redis without persistence loses.
        began = time.monotonic()
        await asyncio.sleep(OUTAGES[kind])
        await asyncio.to_thread(_restore, redis, kind)
        back = time.monotonic()
        await asyncio.sleep(AFTER)
        stop.set()
        await sending
        await traffic.settle()
    return traffic, began, back


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", list(OUTAGES))
@pytest.mark.parametrize("bus", ["streams", "pubsub"])
def test_outage_under_traffic(
    sockd: SockdLauncher,
    outage_redis: RedisServer,
    source_addresses: SourceAddresses,
    bus: str,
    kind: str,
) -> None:
    server = sockd(workers=2, redis=outage_redis.url, redis_bus=bus)
    pids = server.slot_pids()
    sources = source_addresses(CANDIDATES)
    traffic, began, back = asyncio.run(outage_under_traffic(server, outage_redis, kind, sources))

    assert_unharmed(server, pids, traffic)
    lost = traffic.lost_by_worker()
    figures = bus_figures(server)
    print(
        f"\n{bus} {kind}: {len(traffic.calls)} broadcasts, lost per worker "
        f"{ {pid: len(s) for pid, s in lost.items()} }, delivery across workers resumed "
        f"{traffic.resumed_after(back)} s after Redis was back; bus figures {figures}"
    )
    if kind == "stall":  # the app's acked events were answered while Redis was stalled
        sent, acked = traffic.acks_between(began, began + OUTAGES[kind] / 2, back)
        assert sent and acked == sent, f"{acked} of {sent} calls answered during the stall"
    assert_losses_counted(traffic, lost, figures, bus, kind, began)


def assert_losses_counted(
    traffic: Traffic,
    lost: dict[int, set[tuple[int, int]]],
    figures: dict[int, dict[str, int]],
    bus: str,
    kind: str,
    began: float,
) -> None:
    """Each worker counted what it lost (``missed``). A stall loses nothing; with Streams,
    a stop or restart loses at most what Redis had taken but no reader had read yet when
    it went down (Redis here keeps no data across a restart), never what was published
    during the outage or after."""
    sent_at = {(call.sender, call.number): call.sent_at for call in traffic.calls}
    for pid, missing in lost.items():
        assert figures[pid]["state"] == "connected", figures
        assert figures[pid]["missed"] == len(missing), (pid, figures, len(missing))
        if kind == "stall":
            assert not missing, f"worker {pid} lost {len(missing)} broadcasts in a stall"
        if bus == "streams":
            late = [m for m in missing if sent_at[m] >= began]
            assert not late, f"worker {pid} lost {len(late)} broadcasts sent from the outage on"


@pytest.mark.timeout(90)
def test_two_sockd_instances_share_one_redis_through_an_outage(
    sockd: SockdLauncher, outage_redis: RedisServer, source_addresses: SourceAddresses
) -> None:
    """Two sockd (as on two hosts) on one Redis: broadcasts cross both ways, through a
    5 s stop of Redis, none doubled, none lost from the outage on."""
    first = sockd(workers=2, redis=outage_redis.url)
    second = sockd(workers=1, redis=outage_redis.url)

    async def scenario() -> tuple[Traffic, float]:
        async with (
            members_on(first.port, 2, source_addresses(CANDIDATES), 2) as on_first,
            members_on(second.port, 1, source_addresses(CANDIDATES), 2) as on_second,
        ):
            members = [*on_first, *on_second]
            infos = await asyncio.gather(*(m.whoami() for m in members))
            traffic = Traffic(members, {i: int(info["pid"]) for i, info in enumerate(infos)})
            await traffic.join()
            stop = asyncio.Event()
            sending = asyncio.ensure_future(traffic.run(stop))
            await asyncio.sleep(BEFORE)
            await asyncio.to_thread(outage_redis.stop)
            began = time.monotonic()  # Redis has exited (see outage_under_traffic)
            await asyncio.sleep(OUTAGES["stop"])
            await asyncio.to_thread(outage_redis.start)
            await asyncio.sleep(AFTER)
            stop.set()
            await sending
            await traffic.settle()
            return traffic, began

    traffic, began = asyncio.run(scenario())
    figures: dict[int, dict[str, int]] = {}
    for server in (first, second):
        assert_unharmed(server, server.slot_pids(), traffic)
        figures.update(bus_figures(server))
    lost = traffic.lost_by_worker()
    counts = {pid: len(missing) for pid, missing in lost.items()}
    print(f"\ntwo instances, stop: {len(traffic.calls)} broadcasts, lost per worker {counts}")
    assert_losses_counted(traffic, lost, figures, "streams", "stop", began)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_minute_of_stalled_redis_disconnects_none_of_200_clients(
    sockd: SockdLauncher, outage_redis: RedisServer, source_addresses: SourceAddresses
) -> None:
    """The longest test of the suite (``-m slow``): Redis frozen for 60 s under 200 clients
    and cross-worker traffic. No client is disconnected, the workers' event loops keep
    turning (a 10 s watchdog), and every broadcast arrives once Redis is back."""
    server = sockd("--timeout", "10", workers=2, redis=outage_redis.url)
    pids = server.slot_pids()
    workers = [psutil.Process(pid) for pid in pids.values()]

    async def scenario() -> tuple[Traffic, list[float]]:
        idle_sources = source_addresses(CANDIDATES + 200)[CANDIDATES:]
        async with (
            open_clients(server.port, idle_sources, ["websocket"]) as idle,
            members_on(server.port, 2, source_addresses(CANDIDATES), PER_WORKER) as members,
        ):
            infos = await asyncio.gather(*(m.whoami() for m in members))
            traffic = Traffic(members, {i: int(info["pid"]) for i, info in enumerate(infos)})
            await traffic.join()
            stop = asyncio.Event()
            sending = asyncio.ensure_future(traffic.run(stop))
            await asyncio.sleep(BEFORE)
            cpu_before = [sum(w.cpu_times()[:2]) for w in workers]
            await asyncio.to_thread(outage_redis.pause)
            await asyncio.sleep(60.0)
            cpu = [sum(w.cpu_times()[:2]) - b for w, b in zip(workers, cpu_before, strict=True)]
            await asyncio.to_thread(outage_redis.resume)
            await asyncio.sleep(AFTER)
            stop.set()
            await sending
            await traffic.settle()
            gone = [c for c in idle if c.disconnects or not c.connected]
            assert not gone, f"{len(gone)} of {len(idle)} idle clients were disconnected"
            return traffic, cpu

    traffic, cpu = asyncio.run(scenario())
    assert_unharmed(server, pids, traffic)
    lost = {pid: len(missing) for pid, missing in traffic.lost_by_worker().items()}
    print(
        f"\n60 s stall, 200 idle clients: {len(traffic.calls)} broadcasts, lost per worker "
        f"{lost}; worker CPU seconds during the stall {[round(c, 2) for c in cpu]}"
    )
    assert not any(lost.values()), lost
