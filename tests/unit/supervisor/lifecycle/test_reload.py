"""The rolling reload on fake workers: one slot at a time, an abort that restores (and
applies) what was in force, and an answer and READY=1 whatever happens, bugs included."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sockd.config.app_target import AppTarget
from sockd.config.command_line import CommandLine
from sockd.config.options import ClusterOptions, WorkerOptions
from sockd.config.registry import Settings
from sockd.errors import UserError
from sockd.supervisor.lifecycle.live_options import LiveOptions
from sockd.supervisor.lifecycle.reload import Reloader
from sockd.supervisor.lifecycle.slot_table import SlotTable
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker

START = ClusterOptions(
    worker=WorkerOptions(Settings(), AppTarget("app:sio", Path(".")), "prod"),
    flags=CommandLine("start"),
).with_cluster(workers=2)


class Target:
    """The reload target, recording every switch and restore."""

    def __init__(self, workers: list[FakeWorker]) -> None:
        self.current = START
        self.generation = 0
        self.count = len(workers)
        self.workers: dict[int, Worker] = {w.slot: w for w in workers}
        self.restored: list[tuple[ClusterOptions, int]] = []

    def options(self) -> ClusterOptions:
        return self.current

    def switch_to(self, options: ClusterOptions) -> int:
        self.current = options
        self.generation += 1
        self.count = options.cluster.workers
        return self.generation

    def restore(self, options: ClusterOptions, slot_count: int) -> None:
        self.current, self.count = options, slot_count
        self.restored.append((options, slot_count))

    def serving(self) -> Mapping[int, Worker]:
        return self.workers

    def slot_count(self) -> int:
        return self.count


class Notices:
    def __init__(self) -> None:
        self.said: list[str] = []

    def reloading(self) -> None:
        self.said.append("RELOADING")

    def reloaded(self) -> None:
        self.said.append("READY")


class Replacements:
    """Replaces a worker by a fresh one of the target's generation; fails when told."""

    def __init__(self, target: Target, failing: set[int] | None = None) -> None:
        self.target = target
        self.failing = failing or set()
        self.replaced: list[int] = []

    async def __call__(self, worker: Worker, reason: str) -> str | None:
        self.replaced.append(worker.slot)
        if worker.slot in self.failing:
            return "exit code 3"
        fresh = FakeWorker(worker.slot, self.target.generation)
        fresh.state = WorkerState.READY
        self.target.workers[worker.slot] = fresh
        return None


def serving_workers(count: int) -> list[FakeWorker]:
    workers = [FakeWorker(slot) for slot in range(count)]
    for worker in workers:
        worker.state = WorkerState.READY
    return workers


def loader(calls: list[CommandLine], fail: Exception | None = None) -> Any:
    def load(flags: CommandLine, workers: int | None) -> ClusterOptions:
        calls.append(flags)
        if fail is not None:
            raise fail
        return START.with_cluster(workers=workers or START.cluster.workers)

    return load


def test_a_roll_replaces_every_older_worker_and_answers() -> None:
    async def scenario() -> None:
        target = Target(serving_workers(2))
        notices, replace = Notices(), Replacements(target)
        reloader = Reloader(target, replace, loader([]), notices)
        outcome = await reloader.request()
        assert outcome == {"ok": True, "generation": 1, "workers": 2}
        assert replace.replaced == [0, 1]
        assert notices.said == ["RELOADING", "READY"]

    asyncio.run(scenario())


def test_a_failed_successor_aborts_and_restores_what_was_in_force() -> None:
    async def scenario() -> None:
        target = Target(serving_workers(3))
        replace = Replacements(target, failing={1})
        reloader = Reloader(target, replace, loader([]), Notices())
        outcome = await reloader.request(workers=4)
        assert not outcome["ok"]
        assert "the new worker 1 failed to start: exit code 3" in outcome["error"]
        assert replace.replaced == [0, 1], "the roll stops at the first failure"
        assert target.restored == [(START, 3)], "the options and the slot count before it"
        assert target.current is START

    asyncio.run(scenario())


def test_every_reload_reads_the_flags_it_was_started_with() -> None:
    async def scenario() -> None:
        target = Target(serving_workers(1))
        calls: list[CommandLine] = []
        reloader = Reloader(target, Replacements(target, {0}), loader(calls), Notices())
        for _ in range(2):
            assert not (await reloader.request())["ok"]
        assert calls == [START.flags, START.flags], "the start's, also after an abort"

    asyncio.run(scenario())


def test_a_bug_in_a_reload_still_answers_says_ready_and_leaves_the_next_one_working() -> None:
    """It used to kill the reloader's task: `sockd reload` waited for its timeout and
    systemd saw RELOADING=1 without READY=1."""

    async def scenario() -> None:
        target = Target(serving_workers(1))
        notices = Notices()
        load = loader([], fail=KeyError("app_spec"))
        reloader = Reloader(target, Replacements(target), load, notices)
        outcome = await asyncio.wait_for(reloader.request(), 1.0)
        assert outcome == {"ok": False, "error": "reload failed: KeyError('app_spec')"}
        assert notices.said == ["RELOADING", "READY"]
        reloader._load_options = loader([])
        assert (await asyncio.wait_for(reloader.request(), 1.0))["ok"]
        assert notices.said == ["RELOADING", "READY"] * 2

    asyncio.run(scenario())


def test_a_bad_config_aborts_with_its_message() -> None:
    async def scenario() -> None:
        target = Target(serving_workers(1))
        notices = Notices()
        load = loader([], fail=UserError("unknown key [cluster] wrkers"))
        outcome = await Reloader(target, Replacements(target), load, notices).request()
        assert outcome == {"ok": False, "error": "reload aborted: unknown key [cluster] wrkers"}
        assert notices.said == ["RELOADING", "READY"]

    asyncio.run(scenario())


def test_asking_during_a_roll_queues_one_more_and_stopping_answers_everyone() -> None:
    async def scenario() -> None:
        target = Target(serving_workers(1))
        gate = asyncio.Event()

        async def slow_replace(worker: Worker, reason: str) -> str | None:
            await gate.wait()
            return None

        reloader = Reloader(target, slow_replace, loader([]), Notices())
        first = reloader.request()
        await asyncio.sleep(0)
        second, third = reloader.request(), reloader.request()
        assert reloader.running
        reloader.cancel()
        stopping = {"ok": False, "error": "sockd is stopping"}
        assert [await f for f in (first, second, third)] == [stopping] * 3

    asyncio.run(scenario())


def test_live_options_apply_the_log_level_at_reload_and_at_restore() -> None:
    """An aborted reload used to restore the options without applying them."""

    async def scenario() -> None:
        root = logging.getLogger()
        saved = root.level
        table = SlotTable[Worker](2)
        scaled: list[int] = []
        live = LiveOptions(START, table, scaled.append)
        quiet = START.with_cluster(workers=3, log_level="warning")
        try:
            assert live.switch_to(quiet) == 1 and table.generation == 1
            assert root.level == logging.WARNING and scaled == [3]
            live.restore(START, 2)
            assert root.level == logging.INFO and scaled == [3, 2]
            assert live.options() is START
        finally:
            root.setLevel(saved)

    asyncio.run(scenario())
