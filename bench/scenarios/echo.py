"""Closed-loop echo over WebSocket: each client sends an acked event, waits, sends again.

Acks per second and ack latency (p50/p99). Sessions are opened and warmed up before the
measured window; an ack still missing a few seconds after the window counts as a failure.
The busiest app process's CPU over the mean shows how evenly the clients' addresses
spread over the workers (1.00: evenly; sockd's hash and nginx's ip_hash each draw it); the
app processes' CPU per ack is the cost of one message, whatever the generator could offer.
"""

from __future__ import annotations

import asyncio
import time

from bench.budget import Budget
from bench.loadgen.meters import SelfCpu, cpu_seconds, percentile
from bench.loadgen.pool import open_sessions
from bench.loadgen.ws_session import WsSession, close_all
from bench.scenarios.base import Metric, Scenario, loadgen_metric, measured_window
from bench.systems import Running

NAME = "echo"
_PAYLOAD = "e" * 64
_WARMUP_CALLS = 3
_LATE_ACK = 5.0


async def run(target: Running, budget: Budget) -> dict[str, float]:
    """Open and warm up the clients, then measure; the sessions are closed however it ends."""
    sessions, open_errors = await open_sessions(
        target.port,
        budget.echo_clients,
        first_index=budget.address_base,
        concurrency=budget.connect_concurrency,
        offer_deflate=budget.offer_deflate,
    )
    try:
        async with asyncio.timeout(30.0):
            for _ in range(_WARMUP_CALLS):
                await asyncio.gather(*(s.call("echo", _PAYLOAD) for s in sessions))
        before = [cpu_seconds([w]) for w in target.workers]
        result, acks = await _measure(sessions, budget.echo_seconds, len(open_errors))
        used = [cpu_seconds([w]) - b for w, b in zip(target.workers, before, strict=True)]
        mean = sum(used) / len(used) if used else 0.0
        result["echo_worker_spread"] = max(used) / mean if mean > 0 else float("nan")
        result["echo_worker_us"] = 1e6 * sum(used) / acks if acks else float("nan")
        return result
    finally:
        await close_all(sessions)


async def _measure(
    sessions: list[WsSession], seconds: float, failures: int
) -> tuple[dict[str, float], int]:
    """The metrics of the measured window, and how many acks it counted."""
    latencies: list[float] = []
    meter = SelfCpu()
    begin = time.perf_counter()
    deadline = begin + seconds

    async def client(session: WsSession) -> None:
        perf = time.perf_counter
        record = latencies.append
        while (sent := perf()) < deadline:
            await session.call("echo", _PAYLOAD)
            record(perf() - sent)

    measured_window("start")
    tasks = [asyncio.ensure_future(client(s)) for s in sessions]
    _, late = await asyncio.wait(tasks, timeout=seconds + _LATE_ACK)
    measured_window("end")
    for task in late:
        task.cancel()
    failures += len(late) + sum(
        1 for t in tasks if t.done() and not t.cancelled() and t.exception()
    )
    elapsed = time.perf_counter() - begin
    return {
        "echo_per_s": len(latencies) / elapsed,
        "echo_p50_ms": percentile(latencies, 0.50) * 1e3,
        "echo_p99_ms": percentile(latencies, 0.99) * 1e3,
        "echo_failures": failures,
        "echo_loadgen_cpu": meter.share(),
    }, len(latencies)


SCENARIO = Scenario(
    NAME,
    (
        Metric("echo_per_s", "echo: acks/s", True),
        Metric("echo_p50_ms", "echo: ack latency p50 ms", False, "{:,.2f}"),
        Metric("echo_p99_ms", "echo: ack latency p99 ms", False, "{:,.2f}"),
        Metric("echo_failures", "echo: failures", None),
        Metric("echo_worker_spread", "echo: busiest worker CPU / mean", None, "{:.2f}"),
        Metric("echo_worker_us", "echo: app processes' CPU us per ack", False, "{:,.1f}"),
        loadgen_metric(NAME),
    ),
    run,
)
