"""``sockd status`` rows from the slot table: serving or not, restarting slots, and the
master's row naming what it actually listens on."""

from __future__ import annotations

import asyncio
import os

import pytest

from sockd.supervisor.lifecycle.slot_table import Role, SlotTable
from sockd.supervisor.lifecycle.status import MasterFigures, build_status
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from tests.unit.supervisor.fake_worker import FakeWorker

FIGURES = MasterFigures(
    uptime=12.345,
    rss=1,
    cpu_percent=0.5,
    binds=["127.0.0.1:40123", "unix:/run/sockd/app.sock"],
    sticky=True,
    workers=3,
    generation=2,
    reloading=True,
    accepted=10,
    dropped=0,
    log_file=None,
)


def test_rows_per_worker_and_a_row_for_a_restarting_slot() -> None:
    async def scenario() -> None:
        table = SlotTable[Worker](3)
        old, new, serving = FakeWorker(0), FakeWorker(0, 2), FakeWorker(1, 2)
        for worker in (old, serving):
            worker.state = WorkerState.READY
        table.add(old)
        table.add(new, Role.INCOMING)
        table.add(serving)
        serving.stats = {"connections": 4, "sessions": 3}
        table.restarts[1] = 2
        status = build_status(
            "chat", FIGURES, table, {0: 6, 1: 4}, {0: 0.6, 1: 0.4}, old.started_at + 1
        )
        assert status["title"] == "chat"
        assert status["master"]["pid"] == os.getpid()
        assert status["master"]["binds"] == FIGURES.binds
        assert status["master"]["uptime"] == pytest.approx(12.3)
        rows = status["workers"]
        assert [(r["slot"], r["pid"], r["state"], r["serving"]) for r in rows] == [
            (0, old.pid, "ready", True),
            (0, new.pid, "starting", False),
            (1, serving.pid, "ready", True),
            (2, None, "restarting", False),
        ]
        assert rows[2]["restarts"] == 2 and rows[2]["sessions"] == 3
        assert rows[2]["share"] == 0.4 and rows[1]["share"] is None

    asyncio.run(scenario())
