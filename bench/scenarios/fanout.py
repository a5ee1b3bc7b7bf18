"""Room fan-out: one sender broadcasts to a room whose members are spread over the workers.

Receivers join room ``fan`` (acked), then a separate sender emits ``fanout`` events which the
app re-emits to the room; every receiver timestamps each delivery against the send time
(one process, one clock). Two phases on the same fresh system:

1. offered load, open loop: broadcasts at ``fanout_offered / receivers`` per second; delivery
   latency p50/p99, deliveries later than ``fanout_loss_after`` after the last send, and
   deliveries lost (still missing once deliveries stopped coming); the issue's 20,000
   deliveries/s target;
2. capacity, closed loop: ``fanout_window`` broadcasts in flight, the next sent when one has
   reached every receiver (or after ``fanout_loss_after``); deliveries per second and lost.

Each phase ends by waiting (bounded by ``fanout_drain``) until the server has delivered
what it will, so the capacity phase starts on an idle server.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from bench.budget import Budget
from bench.loadgen.meters import SelfCpu, cpu_seconds, percentile
from bench.loadgen.pool import open_sessions
from bench.loadgen.ws_session import WsSession, close_all
from bench.scenarios.base import Metric, Scenario, measured_window
from bench.systems import Running

NAME = "fanout"
ROOM = "fan"
_CAPACITY_SEQ = 1_000_000_000
#: No delivery for this long while some are missing: they are not coming.
_QUIET = 1.0


@dataclass
class Deliveries:
    """What the receivers got, per broadcast sequence number."""

    receivers: int
    counts: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    complete: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    total: int = 0
    #: Deliveries of the capacity phase only (a late one of the first phase is not one).
    capacity_total: int = 0

    def on_event(self, name: str, args: list[Any]) -> None:
        """Every receiver's event handler: count, time, and complete a broadcast."""
        if name != "fan":
            return
        data = args[0]
        seq = data["seq"]
        self.latencies.append(time.perf_counter() - data["t"])
        self.total += 1
        if seq > _CAPACITY_SEQ:
            self.capacity_total += 1
        count = self.counts.get(seq, 0) + 1
        self.counts[seq] = count
        if count == self.receivers:
            waiter = self.complete.pop(seq, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


async def run(target: Running, budget: Budget) -> dict[str, float]:
    """Connect and join the receivers, then run both phases with one sender."""
    got = Deliveries(budget.fanout_receivers)
    receivers, errors = await open_sessions(
        target.port,
        budget.fanout_receivers,
        first_index=budget.address_base,
        concurrency=budget.connect_concurrency,
        offer_deflate=budget.offer_deflate,
        on_event=got.on_event,
    )
    sender: list[WsSession] = []
    try:
        if errors:
            raise ConnectionError(f"{len(errors)} receivers failed to connect: {errors[0]!r}")
        got.receivers = len(receivers)
        async with asyncio.timeout(30.0):
            await asyncio.gather(*(s.call("join", ROOM) for s in receivers))
        sender, errors = await open_sessions(
            target.port,
            1,
            first_index=budget.address_base + budget.fanout_receivers,
            offer_deflate=budget.offer_deflate,
        )
        if errors:
            raise ConnectionError(f"the sender failed to connect: {errors[0]!r}")
        result = await _offered(sender[0], got, budget)
        processes = target.servers  # front, app processes and Redis
        before, delivered_before = cpu_seconds(processes), got.capacity_total
        result.update(await capacity(sender[0], got, budget))
        delivered = got.capacity_total - delivered_before
        used = cpu_seconds(processes) - before
        result["fanout_cpu_us"] = 1e6 * used / delivered if delivered else float("nan")
        return result
    finally:
        await close_all(receivers + sender)


def _broadcast(sender: WsSession, seq: int) -> None:
    sender.emit("fanout", {"room": ROOM, "seq": seq, "t": time.perf_counter()})


async def _offered(sender: WsSession, got: Deliveries, budget: Budget) -> dict[str, float]:
    interval = got.receivers / budget.fanout_offered
    broadcasts = max(1, round(budget.fanout_seconds / interval))
    meter = SelfCpu()
    begin = time.perf_counter()
    for seq in range(broadcasts):
        delay = begin + seq * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        _broadcast(sender, seq)
    cpu = meter.share()
    expected = broadcasts * got.receivers
    on_time = time.perf_counter() + budget.fanout_loss_after
    while got.total < expected and time.perf_counter() < on_time:
        await asyncio.sleep(0.01)
    arrived_on_time = got.total
    await _drain(got, expected, budget.fanout_drain)
    delivered = sum(min(got.counts.get(seq, 0), got.receivers) for seq in range(broadcasts))
    latencies = got.latencies
    got.latencies = []
    return {
        "fanout_offered_per_s": broadcasts * got.receivers / (broadcasts * interval),
        "fanout_p50_ms": percentile(latencies, 0.50) * 1e3,
        "fanout_p99_ms": percentile(latencies, 0.99) * 1e3,
        "fanout_late": max(0, got.total - arrived_on_time),
        "fanout_lost": expected - delivered,
        "fanout_duplicates": got.total - delivered,
        "fanout_offered_loadgen_cpu": cpu,
    }


async def _drain(got: Deliveries, expected: int, bound: float) -> None:
    """Wait until ``expected`` deliveries arrived, or none arrived for a while (bounded):
    what is still missing then is lost, and the next phase starts on an idle server."""
    deadline = time.perf_counter() + bound
    last, quiet_since = got.total, time.perf_counter()
    while got.total < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
        if got.total != last:
            last, quiet_since = got.total, time.perf_counter()
        elif time.perf_counter() - quiet_since > _QUIET:
            return


async def capacity(sender: WsSession, got: Deliveries, budget: Budget) -> dict[str, float]:
    """The closed loop of the capacity phase (tests/e2e/multihost/test_fanout.py runs it
    against sockd hosts in network namespaces too)."""
    loop = asyncio.get_running_loop()
    window = asyncio.Semaphore(budget.fanout_window)
    meter = SelfCpu()
    begin = time.perf_counter()
    deadline = begin + budget.fanout_seconds
    seq = _CAPACITY_SEQ
    waits: list[asyncio.Future[None]] = []
    measured_window("start")
    while time.perf_counter() < deadline:
        await window.acquire()
        seq += 1
        waiter: asyncio.Future[None] = loop.create_future()
        waiter.add_done_callback(lambda _f: window.release())
        got.complete[seq] = waiter
        loop.call_later(budget.fanout_loss_after, _expire, waiter)
        waits.append(waiter)
        _broadcast(sender, seq)
    delivered_in_window = got.capacity_total
    elapsed = time.perf_counter() - begin
    measured_window("end")
    await asyncio.gather(*waits)  # each ends by completion or expiry: bounded
    sent = seq - _CAPACITY_SEQ
    missing = sent * got.receivers - got.capacity_total
    await _drain(got, got.total + missing, budget.fanout_drain)
    delivered = sum(
        min(got.counts.get(s, 0), got.receivers) for s in range(_CAPACITY_SEQ + 1, seq + 1)
    )
    return {
        "fanout_max_per_s": delivered_in_window / elapsed,
        "fanout_max_lost": sent * got.receivers - delivered,
        "fanout_loadgen_cpu": meter.share(),
    }


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


SCENARIO = Scenario(
    NAME,
    (
        Metric("fanout_offered_per_s", "fan-out: offered deliveries/s (open loop)", None),
        Metric("fanout_p50_ms", "fan-out: latency p50 ms (open loop)", False, "{:,.1f}"),
        Metric("fanout_p99_ms", "fan-out: latency p99 ms (open loop)", False, "{:,.1f}"),
        Metric("fanout_late", "fan-out: late (open loop)", None),
        Metric("fanout_lost", "fan-out: lost (open loop)", None),
        Metric("fanout_duplicates", "fan-out: duplicates (open loop)", None),
        Metric(
            "fanout_offered_loadgen_cpu",
            "fan-out: load gen CPU, open loop (cores)",
            None,
            "{:.2f}",
        ),
        Metric("fanout_max_per_s", "fan-out: deliveries/s at capacity", True),
        Metric("fanout_max_lost", "fan-out: lost at capacity", None),
        Metric(
            "fanout_cpu_us",
            "fan-out: server CPU us per delivery at capacity (all server processes)",
            False,
            "{:,.2f}",
        ),
        Metric("fanout_loadgen_cpu", "fan-out: load gen CPU, capacity (cores)", None, "{:.2f}"),
    ),
    run,
    headline="fanout_max_per_s",
)
