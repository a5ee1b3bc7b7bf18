"""Idle connections: server memory per open Socket.IO WebSocket session.

On a freshly started system: a few sessions open and close first (so one-time allocations,
lazy imports and caches are not billed to the idle ones), then the total RSS of every server
process (front, workers, Redis) is taken before and after opening K sessions that stay idle
(answering pings), and the difference is divided by K.
"""

from __future__ import annotations

import asyncio

from bench.budget import Budget
from bench.loadgen.meters import SelfCpu, rss_bytes
from bench.loadgen.pool import open_sessions
from bench.loadgen.ws_session import close_all
from bench.scenarios.base import Metric, Scenario, loadgen_metric
from bench.systems import Running

NAME = "idle"
_WARMUP = 16


async def run(target: Running, budget: Budget) -> dict[str, float]:
    """Warm up, then RSS before and after K idle sessions (closed however it ends)."""
    warm, _ = await open_sessions(
        target.port,
        _WARMUP,
        first_index=budget.address_base + 40_000,
        offer_deflate=budget.offer_deflate,
    )
    await close_all(warm)
    await asyncio.sleep(budget.idle_settle)
    before = rss_bytes(target.servers)
    meter = SelfCpu()
    sessions, errors = await open_sessions(
        target.port,
        budget.idle_connections,
        first_index=budget.address_base,
        concurrency=budget.connect_concurrency,
        offer_deflate=budget.offer_deflate,
    )
    try:
        cpu = meter.share()
        await asyncio.sleep(budget.idle_settle)
        after = rss_bytes(target.servers)
    finally:
        await close_all(sessions)
    opened = max(1, len(sessions))
    return {
        "idle_kib": (after - before) / opened / 1024,
        "idle_failures": len(errors),
        "idle_loadgen_cpu": cpu,
    }


SCENARIO = Scenario(
    NAME,
    (
        Metric("idle_kib", "idle: server KiB per connection", False, "{:,.1f}"),
        Metric("idle_failures", "idle: failed connects", None),
        loadgen_metric(NAME),
    ),
    run,
)
