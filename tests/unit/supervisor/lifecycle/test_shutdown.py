"""The end of a master on fake workers: drain, kill what overstays, a second INT cuts it
short, and a handed-over master lets its last connections start first."""

from __future__ import annotations

import asyncio
import signal

from sockd.supervisor.lifecycle.shutdown import settle, stop_workers
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker, exit_status


def serving(count: int) -> list[Worker]:
    workers: list[Worker] = []
    for slot in range(count):
        worker = FakeWorker(slot)
        worker.state = WorkerState.READY
        workers.append(worker)
    return workers


def test_a_graceful_stop_drains_and_reaps_everyone() -> None:
    async def scenario() -> None:
        live = serving(2)
        drained = list(live)

        def reap() -> None:
            for worker in list(live):
                if worker.state is WorkerState.DRAINING:
                    worker.reaped(exit_status(0))
                    live.remove(worker)

        async def no_signal(timeout: float) -> int | None:
            return None

        await stop_workers(lambda: live, reap, no_signal, 30.0, quick=False)
        assert live == []
        assert all(w.drains == [30.0] and w.signals == [] for w in drained)  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_what_overstays_the_drain_is_killed() -> None:
    async def scenario() -> None:
        live = serving(1)
        stuck = live[0]

        def reap() -> None:
            if stuck.signals == [signal.SIGKILL]:  # type: ignore[attr-defined]
                live.clear()

        async def no_signal(timeout: float) -> int | None:
            return None

        await stop_workers(lambda: live, reap, no_signal, 0.0, quick=False)
        assert stuck.signals == [signal.SIGKILL] and live == []  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_a_quick_stop_kills_at_once_and_a_second_int_cuts_the_drain_short() -> None:
    async def scenario() -> None:
        live = serving(1)

        async def no_signal(timeout: float) -> int | None:
            return None

        await stop_workers(lambda: live, live.clear, no_signal, 30.0, quick=True)
        assert live == []

        live = serving(1)
        signals = [signal.SIGINT]

        async def second_int(timeout: float) -> int | None:
            return signals.pop() if signals else None

        def reap() -> None:
            if live and live[0].signals:  # type: ignore[attr-defined]
                live.clear()

        stubborn = live[0]
        await stop_workers(lambda: live, reap, second_int, 30.0, quick=False)
        assert stubborn.drains == [30.0] and stubborn.signals == [signal.SIGKILL]  # type: ignore[attr-defined]

    asyncio.run(scenario())


def test_settling_waits_for_the_last_connections_within_its_bound() -> None:
    async def scenario() -> None:
        waiting = [3]

        def expire() -> None:
            waiting[0] -= 1

        await settle(lambda: waiting[0], expire, bound=10.0, grace=0.0, poll=0.0)
        assert waiting == [0]
        await settle(lambda: 1, lambda: None, bound=0.0, grace=0.0)  # bounded: returns

    asyncio.run(scenario())
