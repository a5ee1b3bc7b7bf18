"""Lost sessions: the master's memory per disconnected session it keeps for recovery.

On a freshly started system: K sessions open (a few open and close first, so one-time
allocations are not billed to them), then every one of them loses its transport at once
(the client resets its TCP connection, as a dead network would). With connection state
recovery on, the master keeps each lost session (id, private id, rooms, data) until the
window ends; the master's RSS after the losses, less its RSS before the sessions opened,
divided by K, is what one kept session costs. Without recovery it is about 0.
"""

from __future__ import annotations

import asyncio

from bench.budget import Budget
from bench.loadgen.meters import rss_bytes
from bench.loadgen.pool import open_sessions
from bench.loadgen.ws_session import close_all
from bench.scenarios.base import Metric, Scenario
from bench.systems import Running

NAME = "lost"
_WARMUP = 16


async def run(target: Running, budget: Budget) -> dict[str, float]:
    warm, _ = await open_sessions(
        target.port, _WARMUP, first_index=budget.address_base + 40_000,
        offer_deflate=budget.offer_deflate,
    )  # fmt: skip
    await close_all(warm)
    await asyncio.sleep(budget.idle_settle)
    before = rss_bytes(target.front)
    sessions, errors = await open_sessions(
        target.port, budget.idle_connections, first_index=budget.address_base,
        concurrency=budget.connect_concurrency, offer_deflate=budget.offer_deflate,
    )  # fmt: skip
    for session in sessions:
        session.abort()
    await asyncio.sleep(budget.idle_settle * 2)  # the workers see the losses, tell the master
    after = rss_bytes(target.front)
    return {
        "lost_master_kib": (after - before) / max(1, len(sessions)) / 1024,
        "lost_failures": len(errors),
    }


SCENARIO = Scenario(
    NAME,
    (
        Metric("lost_master_kib", "lost: master KiB per lost session kept", None, "{:,.2f}"),
        Metric("lost_failures", "lost: failed connects", None),
    ),
    run,
)
