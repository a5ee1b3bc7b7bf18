"""The ledger of workers: totals kept across exits, restarts counted by reason."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.supervisor.observe.ledger import WorkerLedger
from sockd.wire.histogram import HANDLER_BOUNDS, Histogram
from tests.unit.supervisor.fake_worker import FakeWorker, exit_status, killed_status

TIMEOUT = 30.0


def report(events: int, connects: int, cpu: float, worker: FakeWorker) -> None:
    """What the worker's last STATS said, and the master's last CPU sample of it."""
    handlers = Histogram(HANDLER_BOUNDS)
    for _ in range(events):
        handlers.observe(0.002)
    worker.stats = {
        "counters": {
            "connects": {"/": connects},
            "events": {"/": events},
            "handlers": {"/": handlers.to_wire()},
        },
        "bus": {"state": "connected", "published": events, "received": 2 * events, "dropped": 1},
    }
    worker.cpu_seconds = cpu


class Cluster:
    """A slot table's current workers, and a ledger over them, on a moved clock."""

    def __init__(self) -> None:
        self.current: dict[int, Worker] = {}
        self.stopping = False
        self.now = 1000.0
        self.ledger = WorkerLedger(
            lambda: self.current, lambda: self.stopping, lambda: TIMEOUT, lambda: self.now
        )

    def spawn(self, slot: int, generation: int = 0, ready: bool = True) -> FakeWorker:
        worker = FakeWorker(slot, generation)
        worker.started_at = self.now
        self.ledger.track(worker)
        if ready:
            worker.mark_ready()
            worker.last_heartbeat = self.now
        return worker

    def counter(self, name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return self.ledger.totals().counters.get(key, 0.0)

    async def reap(self, worker: FakeWorker, status: int) -> None:
        worker.reaped(status)
        await asyncio.sleep(0)  # the exited future's callbacks run in the next turn


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def test_a_dead_workers_totals_are_kept_so_counters_never_go_back() -> None:
    async def scenario() -> None:
        cluster = Cluster()
        first = cluster.current[0] = cluster.spawn(0)
        report(10, 2, 1.5, first)
        assert cluster.counter("sockd_socketio_events_total", namespace="/") == 10
        await cluster.reap(first, killed_status(signal.SIGKILL))
        assert cluster.counter("sockd_socketio_events_total", namespace="/") == 10
        second = cluster.current[0] = cluster.spawn(0)
        report(3, 1, 0.5, second)
        totals = cluster.ledger.totals()
        assert cluster.counter("sockd_socketio_events_total", namespace="/") == 13
        assert cluster.counter("sockd_socketio_connects_total", namespace="/") == 3
        assert cluster.counter("sockd_worker_cpu_seconds_total", slot="0") == 2.0
        assert cluster.counter("sockd_bus_messages_total", direction="received") == 26
        assert cluster.counter("sockd_bus_dropped_total") == 2
        histogram = totals.histograms[("sockd_event_handler_seconds", (("namespace", "/"),))]
        assert histogram.count == 13
        assert cluster.ledger.restarts == {(0, "crash"): 1}

    run(scenario())


def test_restart_reasons_crash_hung_start_failed_reload_recycle() -> None:
    async def scenario() -> None:
        cluster = Cluster()
        crashed = cluster.current[0] = cluster.spawn(0)
        await cluster.reap(crashed, exit_status(1))
        hung = cluster.current[1] = cluster.spawn(1)
        cluster.now += TIMEOUT + 1  # no heartbeat since: the watchdog's kill
        await cluster.reap(hung, killed_status(signal.SIGKILL))
        never = cluster.current[2] = cluster.spawn(2, ready=False)
        await cluster.reap(never, exit_status(3))
        for generation, slot in ((1, 3), (0, 4)):  # a reload's successor, a recycler's
            old = cluster.current[slot] = cluster.spawn(slot)
            cluster.now += 1
            cluster.current[slot] = cluster.spawn(slot, generation)
            old.drain(5)
            await cluster.reap(old, exit_status(0))
        assert cluster.ledger.restarts == {
            (0, "crash"): 1, (1, "hung"): 1, (2, "start_failed"): 1,
            (3, "reload"): 1, (4, "recycle"): 1,
        }  # fmt: skip

    run(scenario())


def test_exits_that_start_nothing_again_are_not_restarts() -> None:
    async def scenario() -> None:
        cluster = Cluster()
        serving = cluster.current[0] = cluster.spawn(0)
        successor = cluster.spawn(0, generation=1, ready=False)  # a reload's, failing
        await cluster.reap(successor, exit_status(3))
        removed = cluster.current[1] = cluster.spawn(1)
        del cluster.current[1]  # scaled down: drained, its slot gone
        removed.drain(5)
        await cluster.reap(removed, exit_status(0))
        cluster.stopping = True
        serving.drain(5)
        await cluster.reap(serving, exit_status(0))
        assert cluster.ledger.restarts == {}
        assert serving.state is WorkerState.EXITED

    run(scenario())


def test_a_worker_whose_spawn_failed_is_forgotten() -> None:
    async def scenario() -> None:
        cluster = Cluster()
        failed = cluster.spawn(0, ready=False)
        failed.pid = 0
        report(5, 1, 0.1, failed)
        assert cluster.counter("sockd_socketio_events_total", namespace="/") == 0

    run(scenario())
