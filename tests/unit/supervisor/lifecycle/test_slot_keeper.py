"""The slot keeper on fake workers: boot, routes, restarts with backoff, successors,
the crash-loop guard, and slots added while serving (with the real dispatcher)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from sockd.supervisor.lifecycle.slot_keeper import SlotKeeper
from sockd.supervisor.lifecycle.slot_table import Backoff, SlotTable
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.supervisor.routing.dispatcher import Dispatcher
from sockd.wire.frames import FrameDecoder, Kind
from tests.unit.supervisor.fake_worker import FakeWorker, exit_status


class FakeRoutes:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def slot_ready(self, slot: int, channel: socket.socket) -> None:
        self.calls.append(("ready", slot))

    def slot_unavailable(self, slot: int) -> None:
        self.calls.append(("unavailable", slot))

    def remove_slot(self, slot: int) -> None:
        self.calls.append(("removed", slot))


class Harness:
    """A keeper with fake workers; every worker it made, and what it reported."""

    def __init__(self, count: int, routes: Any = None, max_failures: int = 5) -> None:
        self.table = SlotTable[Worker](count, Backoff(0.1, 2.0, 10.0), max_failures)
        self.routes = routes or FakeRoutes()
        self.made: list[FakeWorker] = []
        self.booted = 0
        self.fatal: list[str] = []
        self.spawn_errors: list[OSError] = []
        self.keeper = SlotKeeper(
            self.table,
            self._make,
            self.routes,
            graceful_timeout=lambda: 7.0,
            on_booted=self._on_booted,
            on_fatal=self.fatal.append,
            handover_grace=0.0,
        )

    def _make(self, slot: int, generation: int, on_frame: Any) -> FakeWorker:
        error = self.spawn_errors.pop(0) if self.spawn_errors else None
        worker = FakeWorker(slot, generation, on_frame, spawn_error=error)
        self.made.append(worker)
        return worker

    def _on_booted(self) -> None:
        self.booted += 1

    async def boot(self) -> list[FakeWorker]:
        for slot in range(self.table.count):
            await self.keeper.spawn(slot)
        workers = list(self.made)
        for worker in workers:
            worker.report(Kind.READY)
        return workers

    def newest(self, slot: int) -> FakeWorker:
        return [w for w in self.made if w.slot == slot][-1]


async def settle() -> None:
    """Let tasks the keeper started (spawns) run."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_boot_routes_each_ready_slot_and_announces_once() -> None:
    async def scenario() -> None:
        harness = Harness(2)
        first, second = await harness.boot()
        assert harness.routes.calls == [("ready", 0), ("ready", 1)]
        assert harness.booted == 1
        assert first.state is second.state is WorkerState.READY
        first.report(Kind.READY)  # a second READY changes nothing
        assert harness.booted == 1 and len(harness.routes.calls) == 2

    asyncio.run(scenario())


def test_a_worker_that_fails_at_boot_stops_the_master_with_its_error() -> None:
    async def scenario() -> None:
        harness = Harness(2)
        await harness.keeper.spawn(0)
        worker = harness.made[0]
        worker.failure = "ImportError: no module named app"
        harness.keeper.on_exit(worker, exit_status(3))
        assert harness.fatal == ["worker 0 failed to start: ImportError: no module named app"]
        assert harness.table.restart_at == {}

    asyncio.run(scenario())


def test_a_crashed_worker_is_restarted_in_its_slot_after_its_backoff() -> None:
    async def scenario() -> None:
        harness = Harness(2)
        _, crashed = await harness.boot()
        harness.keeper.on_exit(crashed, exit_status(1))
        assert ("unavailable", 1) in harness.routes.calls
        due = harness.table.restart_at[1]
        harness.keeper.start_due(due - 0.01)
        await settle()
        assert harness.newest(1) is crashed, "not before its delay"
        harness.keeper.start_due(due)
        await settle()
        replacement = harness.newest(1)
        assert replacement is not crashed and replacement.slot == 1
        assert harness.table.current[1] is replacement
        assert harness.table.restarts == {1: 1}
        replacement.report(Kind.READY)
        assert harness.routes.calls[-1] == ("ready", 1)
        assert harness.booted == 1, "a restart is not a boot"

    asyncio.run(scenario())


def test_a_worker_that_cannot_be_spawned_is_retried_like_a_crash() -> None:
    async def scenario() -> None:
        harness = Harness(1)
        harness.spawn_errors.append(OSError(24, "Too many open files"))
        assert await harness.keeper.spawn(0) is None
        assert harness.table.failures == {0: 1} and 0 in harness.table.restart_at
        assert harness.table.live == []

    asyncio.run(scenario())


def test_a_ready_successor_takes_over_and_the_old_worker_drains_after_the_grace() -> None:
    async def scenario() -> None:
        harness = Harness(1)
        (old,) = await harness.boot()
        successor = await harness.keeper.spawn(0, incoming=True)
        assert isinstance(successor, FakeWorker)
        successor.report(Kind.READY)
        assert harness.table.current[0] is successor
        assert harness.routes.calls[-1] == ("ready", 0)
        await settle()
        assert old.drains == [7.0]
        harness.keeper.on_exit(old, exit_status(0))
        assert harness.table.restart_at == {}, "a drained worker is not restarted"
        assert ("unavailable", 0) not in harness.routes.calls

    asyncio.run(scenario())


def test_bus_messages_go_to_every_other_worker_that_serves() -> None:
    async def scenario() -> None:
        harness = Harness(3)
        sender, other, draining = await harness.boot()
        draining.drain(5.0)
        starting = await harness.keeper.spawn(1, incoming=True)
        assert isinstance(starting, FakeWorker)
        sender.report(Kind.BUS, b"payload")
        assert sender.sent == [] and starting.sent == []
        for receiver in (other, draining):
            assert FrameDecoder().feed(b"".join(receiver.sent)) == [(Kind.BUS, b"payload")]

    asyncio.run(scenario())


def test_a_slot_added_while_serving_whose_app_fails_is_removed_not_fatal() -> None:
    """SIGTTIN (or ``reload -w N+1``) while the app fails to import: the master and the
    slots that serve carry on (it used to die of a KeyError in the dispatcher)."""

    async def scenario() -> None:
        dispatcher = Dispatcher(1, sticky=True, queue_timeout=1.0, queue_limit=10)
        harness = Harness(1, routes=dispatcher, max_failures=3)
        (serving,) = await harness.boot()
        harness.keeper.scale_to(2)
        await settle()
        for attempt in range(3):
            added = harness.newest(1)
            added.failure = "SyntaxError: invalid syntax"
            harness.keeper.on_exit(added, exit_status(3))
            if attempt < 2:
                harness.keeper.start_due(harness.table.restart_at[1])
                await settle()
        assert harness.fatal == []
        assert harness.table.count == 1 and harness.table.restart_at == {}
        assert harness.table.current == {0: serving}
        assert serving.state is WorkerState.READY

    asyncio.run(scenario())


@pytest.mark.parametrize("shrink_to", [1, 2])
def test_scaling_down_drains_the_removed_slots_workers(shrink_to: int) -> None:
    async def scenario() -> None:
        harness = Harness(3)
        workers = await harness.boot()
        harness.keeper.scale_to(shrink_to)
        assert harness.table.count == shrink_to
        removed = workers[shrink_to:]
        assert all(w.drains == [7.0] for w in removed)
        assert all(w.drains == [] for w in workers[:shrink_to])
        assert [c for c in harness.routes.calls if c[0] == "removed"] == [
            ("removed", slot) for slot in range(2, shrink_to - 1, -1)
        ]

    asyncio.run(scenario())
