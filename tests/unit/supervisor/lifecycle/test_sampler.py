"""The sampler: figures once per interval, the master's own, shares, then the recycler."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sockd.supervisor.lifecycle.sampler import SHARE_WINDOW, Sampler, ShareWindow
from tests.unit.supervisor.fake_worker import FakeWorker


class FakeMaster:
    """What the sampler asks psutil about the master process."""

    def memory_info(self) -> Any:
        return type("Memory", (), {"rss": 12_345_678})()

    def cpu_percent(self, interval: float | None) -> float:
        return 3.5


def test_one_sample_per_interval_then_the_recycler_runs() -> None:
    async def scenario() -> None:
        workers = [FakeWorker(0), FakeWorker(1)]
        after: list[float] = []
        counts = {0: 4, 1: 6}
        sampler = Sampler(
            lambda: workers, lambda: dict(counts), after.append, FakeMaster(), interval=1.0
        )  # type: ignore[arg-type]
        sampler.tick(100.0)
        sampler.tick(100.5)
        assert [w.samples for w in workers] == [1, 1]
        assert after == [100.0]
        assert (sampler.master_rss, sampler.master_cpu_percent) == (12_345_678, 3.5)
        sampler.tick(101.0)
        assert [w.samples for w in workers] == [2, 2] and after == [100.0, 101.0]

    asyncio.run(scenario())


def test_shares_count_only_the_last_window() -> None:
    window = ShareWindow()
    window.record(0.0, {0: 0, 1: 0})
    window.record(10.0, {0: 100, 1: 0})
    window.record(SHARE_WINDOW + 11.0, {0: 100, 1: 30})
    # The first snapshots left the window: only the last 30 connections count.
    assert window.shares({0: 100, 1: 30}) == pytest.approx({0: 0.0, 1: 1.0})
    assert ShareWindow().shares({0: 0}) == {0: 0.0}
