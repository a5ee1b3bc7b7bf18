"""Recycling: a worker past ``--max-memory`` or ``--max-age`` is replaced gracefully.

The replacement goes through the same one-at-a-time step as a reload (new worker ready
first, then the old one drains), so recycling never takes several workers away at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from typing import TYPE_CHECKING

from sockd.supervisor.lifecycle.reload import Replacer
from sockd.supervisor.lifecycle.worker_process import WorkerProcess, WorkerState

if TYPE_CHECKING:
    from sockd.supervisor.lifecycle.arbiter import Arbiter

log = logging.getLogger("sockd.master")

MB = 1024 * 1024
#: Each worker's ``--max-age`` is stretched by a random share up to this, so workers
#: started together do not all come due together.
AGE_JITTER = 0.1
#: After a successor failed to start, leave that worker alone this long.
RETRY_AFTER = 60.0


class Recycler:
    def __init__(self, arbiter: Arbiter, replacer: Replacer) -> None:
        self._arbiter = arbiter
        self._replacer = replacer
        self._task: asyncio.Task[None] | None = None
        self._age_limits: weakref.WeakKeyDictionary[WorkerProcess, float] = (
            weakref.WeakKeyDictionary()
        )
        self._hold_until: weakref.WeakKeyDictionary[WorkerProcess, float] = (
            weakref.WeakKeyDictionary()
        )

    def check(self, now: float) -> None:
        """Start recycling the first worker that is due, unless one is being recycled."""
        options = self._arbiter.options
        if options.cluster.max_memory is None and options.cluster.max_age is None:
            return
        if self._task is not None and not self._task.done():
            return
        for slot in sorted(self._arbiter.workers):
            worker = self._arbiter.workers[slot]
            reason = self._due(worker, now)
            if reason:
                self._task = asyncio.get_running_loop().create_task(self._recycle(worker, reason))
                return

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _due(self, worker: WorkerProcess, now: float) -> str | None:
        if worker.state is not WorkerState.READY or now < self._hold_until.get(worker, 0.0):
            return None
        options = self._arbiter.options
        if options.cluster.max_memory is not None and worker.rss > options.cluster.max_memory * MB:
            return f"RSS {worker.rss / MB:.0f} MB is over --max-memory {options.cluster.max_memory}"
        if options.cluster.max_age is not None:
            limit = self._age_limits.setdefault(
                worker, options.cluster.max_age * (1 + random.uniform(0, AGE_JITTER))
            )
            if now - worker.ready_at >= limit:
                age = now - worker.ready_at
                return f"{age:.0f}s old, past --max-age {options.cluster.max_age:g}"
        return None

    async def _recycle(self, worker: WorkerProcess, reason: str) -> None:
        failure = await self._replacer.replace(worker, f"recycling: {reason}")
        if failure:
            log.error(
                "worker %d (pid %d) keeps serving: its successor failed to start: %s",
                worker.slot,
                worker.pid,
                failure,
                extra={"slot": worker.slot, "worker_pid": worker.pid, "event": "recycle_failed"},
            )
            self._hold_until[worker] = time.monotonic() + RETRY_AFTER
