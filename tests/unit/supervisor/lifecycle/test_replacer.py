"""One replacement step on fake workers: the successor serves before the old one goes."""

from __future__ import annotations

import asyncio

from sockd.supervisor.lifecycle.replacer import Replacer
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker, exit_status


async def turns() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_step_waits_for_the_successor_then_for_the_old_worker_to_exit() -> None:
    async def scenario() -> None:
        old = FakeWorker(0)
        old.state = WorkerState.READY
        current: dict[int, Worker] = {0: old}
        successors: list[FakeWorker] = []

        async def spawn(slot: int) -> Worker | None:
            successors.append(FakeWorker(slot))
            return successors[-1]

        replacer = Replacer(
            lambda w: current.get(w.slot) is w, spawn, lambda slot: slot == 0, lambda: 5.0
        )
        step = asyncio.create_task(replacer.replace(old, "reload 1"))
        await turns()
        successors[0].mark_ready()
        await turns()
        assert not step.done(), "the step ends when the old worker is gone"
        old.reaped(exit_status(0))
        assert await step is None

    asyncio.run(scenario())


def test_a_successor_that_dies_says_why() -> None:
    async def scenario() -> None:
        old = FakeWorker(0)
        old.state = WorkerState.READY

        async def spawn(slot: int) -> Worker | None:
            successor = FakeWorker(slot)
            successor.failure = "ImportError: broken"
            successor.reaped(exit_status(3))
            return successor

        replacer = Replacer(lambda w: True, spawn, lambda slot: True, lambda: 5.0)
        assert await replacer.replace(old, "reload 1") == "ImportError: broken"
        assert old.state is WorkerState.READY

    asyncio.run(scenario())


def test_a_worker_replaced_meanwhile_is_not_replaced_again() -> None:
    async def scenario() -> None:
        async def spawn(slot: int) -> Worker | None:
            raise AssertionError("nothing to spawn")

        replacer = Replacer(lambda w: False, spawn, lambda slot: True, lambda: 5.0)
        ready = FakeWorker(0)
        ready.state = WorkerState.READY
        assert await replacer.replace(ready, "recycling") is None

    asyncio.run(scenario())
