"""Connection storm: Engine.IO handshakes per second, each on a new TCP connection.

Each handshake comes from a new 127.x.y.z address (a new client), opens a long-polling
session and closes: the cheapest request there is, so the cost of whatever stands between
the client and the app (sockd's accept and fd hand-off, nginx's proxy hop) shows most here.
The front's CPU per connection comes from psutil over the same window.
"""

from __future__ import annotations

import asyncio
import time

from bench.budget import Budget
from bench.loadgen.addresses import source_address
from bench.loadgen.http import one_shot, request_bytes
from bench.loadgen.meters import SelfCpu, cpu_seconds
from bench.scenarios.base import Metric, Scenario, loadgen_metric
from bench.systems import Running

NAME = "storm"
_LATE = 10.0
_REQUEST = request_bytes("GET", "/socket.io/?EIO=4&transport=polling", "bench", close=True)


async def run(target: Running, budget: Budget) -> dict[str, float]:
    """Closed-loop handshakes from ``storm_concurrency`` clients until the deadline."""
    done = failures = started = 0
    front_before = cpu_seconds(target.front)
    meter = SelfCpu()
    begin = time.monotonic()
    deadline = begin + budget.storm_seconds

    async def client() -> None:
        nonlocal done, failures, started
        while time.monotonic() < deadline:
            source = source_address(budget.address_base + started)
            started += 1
            try:
                response = await one_shot(target.port, source, _REQUEST)
                ok = response.startswith(b"HTTP/1.1 200") and b'"sid"' in response
            except OSError:
                ok = False
            done += ok
            failures += not ok

    # One bound for all (cheaper than a timeout per handshake); a hung one is a failure.
    clients = [asyncio.ensure_future(client()) for _ in range(budget.storm_concurrency)]
    _, hung = await asyncio.wait(clients, timeout=budget.storm_seconds + _LATE)
    for task in hung:
        task.cancel()
    failures += len(hung)
    elapsed = time.monotonic() - begin
    front_cpu = cpu_seconds(target.front) - front_before
    connections = done + failures
    return {
        "storm_per_s": done / elapsed,
        "storm_failures": failures,
        "storm_front_us": front_cpu / connections * 1e6
        if target.front and connections
        else float("nan"),
        "storm_loadgen_cpu": meter.share(),
    }


SCENARIO = Scenario(
    NAME,
    (
        Metric("storm_per_s", "storm: handshakes/s", True),
        Metric("storm_failures", "storm: failed handshakes", None),
        Metric("storm_front_us", "storm: front CPU us/conn (master, nginx)", False, "{:,.1f}"),
        loadgen_metric(NAME),
    ),
    run,
)
