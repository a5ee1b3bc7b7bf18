"""Recycling on fake workers: past --max-memory or --max-age, one at a time, and a
worker whose successor failed is left alone for a while."""

from __future__ import annotations

import asyncio

from sockd.supervisor.lifecycle.recycler import MB, RETRY_AFTER, RecycleLimits, Recycler
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker


def serving(count: int) -> dict[int, Worker]:
    workers: dict[int, Worker] = {}
    for slot in range(count):
        worker = FakeWorker(slot)
        worker.state = WorkerState.READY
        worker.ready_at = 0.0
        workers[slot] = worker
    return workers


def test_a_worker_over_its_memory_limit_is_replaced() -> None:
    async def scenario() -> None:
        workers = serving(2)
        workers[1].rss = 300 * MB
        asked: list[tuple[int, str]] = []

        async def replace(worker: Worker, reason: str) -> str | None:
            asked.append((worker.slot, reason))
            return None

        recycler = Recycler(lambda: workers, lambda: RecycleLimits(max_memory=200), replace)
        recycler.check(10.0)
        await asyncio.sleep(0)
        assert asked == [(1, "recycling: RSS 300 MB is over --max-memory 200")]

    asyncio.run(scenario())


def test_old_workers_go_one_at_a_time() -> None:
    async def scenario() -> None:
        workers = serving(2)
        gate = asyncio.Event()
        asked: list[int] = []

        async def replace(worker: Worker, reason: str) -> str | None:
            asked.append(worker.slot)
            await gate.wait()
            return None

        limits = RecycleLimits(max_age=60)
        recycler = Recycler(lambda: workers, lambda: limits, replace, jitter=lambda: 0.0)
        recycler.check(59.0)
        await asyncio.sleep(0)
        assert asked == []
        recycler.check(60.0)
        await asyncio.sleep(0)
        recycler.check(61.0)
        await asyncio.sleep(0)
        assert asked == [0], "never two at once"
        gate.set()
        await asyncio.sleep(0)
        recycler.check(62.0)
        await asyncio.sleep(0)
        assert asked == [0, 0], "slot 0's worker is still the one serving in this fake"

    asyncio.run(scenario())


def test_a_failed_successor_holds_the_worker_back() -> None:
    async def scenario() -> None:
        workers = serving(1)
        workers[0].rss = 10 * MB
        now = [100.0]
        asked: list[int] = []

        async def replace(worker: Worker, reason: str) -> str | None:
            asked.append(worker.slot)
            return "exit code 3"

        recycler = Recycler(
            lambda: workers, lambda: RecycleLimits(max_memory=1), replace, clock=lambda: now[0]
        )
        recycler.check(now[0])
        await asyncio.sleep(0)
        assert asked == [0]
        recycler.check(now[0] + RETRY_AFTER - 1)
        await asyncio.sleep(0)
        assert asked == [0]
        recycler.check(now[0] + RETRY_AFTER)
        await asyncio.sleep(0)
        assert asked == [0, 0]

    asyncio.run(scenario())


def test_without_limits_nothing_happens() -> None:
    async def scenario() -> None:
        workers = serving(1)
        workers[0].rss = 10_000 * MB

        async def replace(worker: Worker, reason: str) -> str | None:
            raise AssertionError("no limit, no recycling")

        Recycler(lambda: workers, RecycleLimits, replace).check(1e9)
        await asyncio.sleep(0)

    asyncio.run(scenario())
