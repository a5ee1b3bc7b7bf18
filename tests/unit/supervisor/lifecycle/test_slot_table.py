"""The slot table decides, from pure state: backoff, crash-loop guard, boot, roles."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from sockd.supervisor.lifecycle.slot_table import Backoff, Role, SlotTable, Verdict
from sockd.supervisor.lifecycle.worker_state import WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def ready(worker: FakeWorker) -> FakeWorker:
    worker.state = WorkerState.READY
    return worker


def test_backoff_doubles_up_to_its_ceiling() -> None:
    backoff = Backoff(first=0.1, factor=2.0, ceiling=10.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert backoff.delay(0) == pytest.approx(0.1), "no failure yet still waits the first delay"
    assert backoff.delay(20) == 10.0
    assert backoff.delay(10_000) == 10.0


def test_restarts_come_due_after_their_backoff_once_each() -> None:
    table: SlotTable[FakeWorker] = SlotTable(2)
    table.record_failure(1)
    table.record_failure(1)
    assert table.schedule_restart(1, now=100.0) == pytest.approx(0.2)
    assert table.restarts == {1: 1}
    assert table.due_restarts(100.1) == []
    assert table.due_restarts(100.2) == [1]
    assert table.due_restarts(100.3) == [], "each restart is due once"


def test_a_long_healthy_service_resets_the_failure_count() -> None:
    table: SlotTable[FakeWorker] = SlotTable(1, healthy_period=30.0)
    for _ in range(3):
        table.record_failure(0, ready_for=1.0)
    assert table.failures[0] == 3
    table.record_failure(0, ready_for=31.0)
    assert table.failures[0] == 1


def test_a_start_failure_before_boot_is_fatal() -> None:
    table: SlotTable[FakeWorker] = SlotTable(2)
    assert table.start_failed(0) is Verdict.FATAL


def test_start_failures_after_boot_retry_then_stop_the_master(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(1, max_failures=3)
    table.add(ready(FakeWorker(0, loop=loop)))
    assert table.boot_if_ready()
    assert [table.start_failed(0) for _ in range(3)] == [
        Verdict.RETRY,
        Verdict.RETRY,
        Verdict.FATAL,
    ]


def test_a_slot_added_while_serving_that_never_worked_is_given_up(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(1, max_failures=3)
    table.add(ready(FakeWorker(0, loop=loop)))
    assert table.boot_if_ready()
    added = table.add_slot()
    assert added == 1 and table.count == 2
    verdicts = [table.start_failed(added) for _ in range(3)]
    assert verdicts == [Verdict.RETRY, Verdict.RETRY, Verdict.GIVE_UP_SLOT]


def test_an_added_slot_that_served_once_is_guarded_like_the_others(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(1, max_failures=2)
    table.add(ready(FakeWorker(0, loop=loop)))
    table.boot_if_ready()
    slot = table.add_slot()
    worker = FakeWorker(slot, loop=loop)
    table.add(worker)
    table.served(worker)
    assert [table.start_failed(slot) for _ in range(2)] == [Verdict.RETRY, Verdict.FATAL]


def test_boot_is_announced_once_when_every_slot_is_ready(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(2)
    first, second = FakeWorker(0, loop=loop), FakeWorker(1, loop=loop)
    table.add(first)
    table.add(second)
    ready(first)
    assert not table.boot_if_ready(), "slot 1 is still starting"
    ready(second)
    assert table.boot_if_ready()
    assert not table.boot_if_ready(), "only the first time"
    assert table.booted and table.ready_count() == 2


def test_a_successor_takes_its_slot_over_and_the_replaced_worker_leaves(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(1)
    old, new = ready(FakeWorker(0, loop=loop)), FakeWorker(0, loop=loop)
    table.add(old)
    table.add(new, Role.INCOMING)
    assert (table.role(old), table.role(new)) == (Role.CURRENT, Role.INCOMING)
    assert table.promote(new) is old
    assert (table.role(old), table.role(new)) == (Role.NONE, Role.CURRENT)
    assert table.remove(old) is Role.NONE
    assert table.live == [new]


def test_a_reaped_current_worker_keeps_its_place_until_replaced(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(1)
    worker = FakeWorker(0, loop=loop)
    table.add(worker)
    assert table.remove(worker) is Role.CURRENT
    assert table.current[0] is worker and table.live == []
    successor = FakeWorker(0, loop=loop)
    table.add(successor, Role.INCOMING)
    assert table.remove(successor) is Role.INCOMING
    assert table.incoming == {}


def test_removing_the_top_slot_hands_back_its_workers_and_forgets_its_restart(
    loop: asyncio.AbstractEventLoop,
) -> None:
    table: SlotTable[FakeWorker] = SlotTable(2)
    current, incoming = FakeWorker(1, loop=loop), FakeWorker(1, loop=loop)
    table.add(current)
    table.add(incoming, Role.INCOMING)
    table.record_failure(1)
    table.schedule_restart(1, now=0.0)
    slot, workers = table.remove_top_slot()
    assert slot == 1 and table.count == 1
    assert workers == [current, incoming]
    assert table.due_restarts(1000.0) == []
    assert not table.exists(1) and table.exists(0)
