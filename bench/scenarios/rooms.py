"""Many small rooms (a chat): every member broadcasts to its room, one message in flight each.

Rooms of ``rooms_members`` clients from consecutive source addresses, so a room's members
land on different workers (sockd's hash, nginx's ip_hash) and most broadcasts cross the
bus: the scenario measures the bus under load, which the one-room fan-out does not (there
a broadcast reaches hundreds of clients, so bus messages are few). Each member sends its
next broadcast once its previous one has reached every member of the room (or after
``fanout_loss_after``): deliveries per second, delivery latency p50/p99, lost ones, and
the CPU the app processes and the front (sockd's master, nginx) spend per delivery.
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
from bench.scenarios.base import Metric, Scenario, loadgen_metric, measured_window
from bench.systems import Running

NAME = "rooms"


@dataclass
class RoomDeliveries:
    """What the members got, per (sender, sequence number)."""

    members: int
    counts: dict[tuple[int, int], int] = field(default_factory=dict)
    complete: dict[tuple[int, int], asyncio.Future[None]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    total: int = 0

    def on_event(self, name: str, args: list[Any]) -> None:
        """Every member's event handler: count, time, and complete a broadcast."""
        if name != "fan":
            return
        data = args[0]
        key = (data["from"], data["seq"])
        self.latencies.append(time.perf_counter() - data["t"])
        self.total += 1
        count = self.counts.get(key, 0) + 1
        self.counts[key] = count
        if count == self.members:
            waiter = self.complete.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


async def run(target: Running, budget: Budget) -> dict[str, float]:
    """Connect and join every member, then let each one broadcast in a closed loop."""
    members = budget.rooms_members
    got = RoomDeliveries(members)
    sessions, errors = await open_sessions(
        target.port,
        budget.rooms_count * members,
        first_index=budget.address_base,
        concurrency=budget.connect_concurrency,
        offer_deflate=budget.offer_deflate,
        on_event=got.on_event,
    )
    try:
        if errors:
            raise ConnectionError(f"{len(errors)} members failed to connect: {errors[0]!r}")
        async with asyncio.timeout(30.0):
            joins = (s.call("join", _room(i, members)) for i, s in enumerate(sessions))
            await asyncio.gather(*joins)
        workers, front = cpu_seconds(target.workers), cpu_seconds(target.front)
        result = await _measure(sessions, got, budget)
        delivered = result.pop("rooms_delivered")
        for key, processes, before in (
            ("rooms_worker_us", target.workers, workers),
            ("rooms_front_us", target.front, front),
        ):
            used = cpu_seconds(processes) - before
            result[key] = 1e6 * used / delivered if delivered and processes else float("nan")
        return result
    finally:
        await close_all(sessions)


def _room(index: int, members: int) -> str:
    return f"room-{index // members}"


async def _measure(
    sessions: list[WsSession], got: RoomDeliveries, budget: Budget
) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    meter = SelfCpu()
    begin = time.perf_counter()
    deadline = begin + budget.rooms_seconds
    sent = 0

    async def member(index: int, session: WsSession) -> None:
        nonlocal sent
        room, seq = _room(index, budget.rooms_members), 0
        while time.perf_counter() < deadline:
            seq += 1
            waiter: asyncio.Future[None] = loop.create_future()
            got.complete[(index, seq)] = waiter
            data = {"room": room, "from": index, "seq": seq, "t": time.perf_counter()}
            session.emit("fanout", data)
            sent += 1
            try:
                await asyncio.wait_for(waiter, budget.fanout_loss_after)
            except TimeoutError:
                got.complete.pop((index, seq), None)

    measured_window("start")
    await asyncio.gather(*(member(i, s) for i, s in enumerate(sessions)))
    measured_window("end")
    elapsed = time.perf_counter() - begin
    delivered = sum(min(count, got.members) for count in got.counts.values())
    return {
        "rooms_per_s": delivered / elapsed,
        "rooms_p50_ms": percentile(got.latencies, 0.50) * 1e3,
        "rooms_p99_ms": percentile(got.latencies, 0.99) * 1e3,
        "rooms_lost": sent * got.members - delivered,
        "rooms_delivered": delivered,
        "rooms_loadgen_cpu": meter.share(),
    }


SCENARIO = Scenario(
    NAME,
    (
        Metric("rooms_per_s", "rooms: deliveries/s", True),
        Metric("rooms_p50_ms", "rooms: latency p50 ms", False, "{:,.1f}"),
        Metric("rooms_p99_ms", "rooms: latency p99 ms", False, "{:,.1f}"),
        Metric("rooms_lost", "rooms: lost", None),
        Metric("rooms_worker_us", "rooms: app processes' CPU us per delivery", False, "{:,.1f}"),
        Metric("rooms_front_us", "rooms: front CPU us per delivery", False, "{:,.2f}"),
        loadgen_metric(NAME),
    ),
    run,
)
