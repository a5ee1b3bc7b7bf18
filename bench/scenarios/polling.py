"""Polling sessions: long-polling clients exchanging acked events, counting lost sessions.

Every client keeps a long GET open on one connection and POSTs on another, as browsers do.
A request that reaches a process without the session is answered "Invalid session": it is
counted as an unknown-session failure (sockd must show none; nginx ip_hash is measured the
same way). A failed client opens a new session, as a browser would reconnect.
"""

from __future__ import annotations

import asyncio
import time

from bench.budget import Budget
from bench.loadgen.addresses import source_address
from bench.loadgen.meters import SelfCpu
from bench.loadgen.polling_session import PollingSession, UnknownSession
from bench.scenarios.base import Metric, Scenario, loadgen_metric
from bench.systems import Running

NAME = "polling"
_PAYLOAD = "p" * 64


async def run(target: Running, budget: Budget) -> dict[str, float]:
    """Every client loops open, acked events until the deadline, close; failures counted."""
    acks = unknown = errors = requests = 0
    meter = SelfCpu()
    begin = time.monotonic()
    deadline = begin + budget.polling_seconds

    async def client(index: int) -> None:
        nonlocal acks, unknown, errors, requests
        source = source_address(budget.address_base + index)
        while time.monotonic() < deadline:
            session = PollingSession(target.port, source)
            try:
                async with asyncio.timeout(max(0.1, deadline - time.monotonic()) + 10.0):
                    await session.open()
                    while time.monotonic() < deadline:
                        await session.call("echo", _PAYLOAD)
                        acks += 1
            except UnknownSession:
                unknown += 1
            except (ConnectionError, TimeoutError, ValueError):
                errors += 1
            finally:
                requests += session.requests
                await session.close()

    await asyncio.gather(*(client(i) for i in range(budget.polling_sessions)))
    elapsed = time.monotonic() - begin
    return {
        "polling_per_s": acks / elapsed,
        "polling_requests_per_s": requests / elapsed,
        "polling_unknown": unknown,
        "polling_errors": errors,
        "polling_loadgen_cpu": meter.share(),
    }


SCENARIO = Scenario(
    NAME,
    (
        Metric("polling_per_s", "polling: acked events/s", True),
        Metric("polling_requests_per_s", "polling: HTTP requests/s", True),
        Metric("polling_unknown", "polling: unknown-session failures", None),
        Metric("polling_errors", "polling: other failures", None),
        loadgen_metric(NAME),
    ),
    run,
)
