"""The watchdog kills hung starts, silent loops and overrun drains; it judges health."""

from __future__ import annotations

import asyncio
import signal

from sockd.supervisor.lifecycle.watchdog import (
    DRAIN_KILL_MARGIN,
    HEARTBEAT_OVERDUE,
    STARTUP_TIMEOUT,
    Watchdog,
)
from sockd.supervisor.lifecycle.worker_state import WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker

TIMEOUT = 30.0


def workers_at(now: float) -> tuple[FakeWorker, FakeWorker, FakeWorker]:
    starting, serving, draining = (FakeWorker(slot) for slot in range(3))
    for worker in (starting, serving, draining):
        worker.started_at = worker.last_heartbeat = now
    serving.state = WorkerState.READY
    draining.state = WorkerState.DRAINING
    draining.drain_deadline = now + 100
    return starting, serving, draining


def test_healthy_workers_are_left_alone() -> None:
    async def scenario() -> None:
        workers = workers_at(1000.0)
        watchdog = Watchdog(lambda: workers, lambda: TIMEOUT)
        watchdog.check(1000.0 + 9.0)
        assert all(w.signals == [] for w in workers)
        assert watchdog.healthy(1000.0 + HEARTBEAT_OVERDUE - 0.1)

    asyncio.run(scenario())


def test_each_kind_of_hang_is_killed_past_its_bound() -> None:
    async def scenario() -> None:
        starting, serving, draining = workers = workers_at(0.0)
        watchdog = Watchdog(lambda: workers, lambda: TIMEOUT)
        watchdog.check(TIMEOUT + 0.1)
        assert serving.signals == [signal.SIGKILL], "missed heartbeats"
        assert starting.signals == [] and draining.signals == []
        watchdog.check(STARTUP_TIMEOUT + 0.1)
        assert starting.signals == [signal.SIGKILL], "never ready"
        assert starting.failure is not None and "not ready" in starting.failure
        assert draining.signals == []
        watchdog.check(100 + DRAIN_KILL_MARGIN + 0.1)
        assert draining.signals == [signal.SIGKILL], "overran its drain"

    asyncio.run(scenario())


def test_the_heartbeat_timeout_in_force_is_read_at_each_check() -> None:
    async def scenario() -> None:
        _, serving, _ = workers = workers_at(0.0)
        timeout = [TIMEOUT]
        watchdog = Watchdog(lambda: workers, lambda: timeout[0])
        watchdog.check(10.0)
        assert serving.signals == []
        timeout[0] = 5.0  # a reload lowered --timeout
        watchdog.check(10.0)
        assert serving.signals == [signal.SIGKILL]

    asyncio.run(scenario())


def test_a_serving_worker_overdue_makes_the_cluster_unhealthy() -> None:
    async def scenario() -> None:
        _, serving, _ = workers = workers_at(0.0)
        watchdog = Watchdog(lambda: workers, lambda: TIMEOUT)
        assert not watchdog.healthy(HEARTBEAT_OVERDUE + 0.1)
        serving.last_heartbeat = HEARTBEAT_OVERDUE
        assert watchdog.healthy(HEARTBEAT_OVERDUE + 0.1), "only serving workers count"

    asyncio.run(scenario())
