"""Recycling: a worker past ``--max-memory`` or ``--max-age`` is replaced gracefully.

The replacement goes through the same one-at-a-time step as a reload (new worker ready
first, then the old one drains), so recycling never takes several workers away at once.
It runs after each sample (``sampler.py``), which refreshes the RSS it compares.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sockd.config.options import ClusterOptions
from sockd.supervisor.lifecycle.replacer import Replace
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState, worker_event

log = logging.getLogger("sockd.master")

MB = 1024 * 1024
#: Each worker's ``--max-age`` is stretched by a random share up to this, so workers
#: started together do not all come due together.
AGE_JITTER = 0.1
#: After a successor failed to start, leave that worker alone this long.
RETRY_AFTER = 60.0


@dataclass(frozen=True)
class RecycleLimits:
    """``--max-memory`` (MB) and ``--max-age`` (seconds); None: no limit."""

    max_memory: int | None = None
    max_age: float | None = None

    @classmethod
    def of(cls, options: ClusterOptions) -> RecycleLimits:
        return cls(options.cluster.max_memory, options.cluster.max_age)


class Recycler:
    def __init__(
        self,
        serving: Callable[[], Mapping[int, Worker]],
        limits: Callable[[], RecycleLimits],
        replace: Replace,
        jitter: Callable[[], float] = lambda: random.uniform(0, AGE_JITTER),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._serving = serving
        self._limits = limits
        self._replace = replace
        self._jitter = jitter
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._age_limits: weakref.WeakKeyDictionary[Worker, float] = weakref.WeakKeyDictionary()
        self._hold_until: weakref.WeakKeyDictionary[Worker, float] = weakref.WeakKeyDictionary()

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def check(self, now: float) -> None:
        """Start recycling the first worker that is due, unless one is being recycled."""
        limits = self._limits()
        if (limits.max_memory is None and limits.max_age is None) or self.busy:
            return
        serving = self._serving()
        for slot in sorted(serving):
            worker = serving[slot]
            reason = self._due(worker, limits, now)
            if reason:
                self._task = asyncio.get_running_loop().create_task(self._recycle(worker, reason))
                return

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _due(self, worker: Worker, limits: RecycleLimits, now: float) -> str | None:
        if worker.state is not WorkerState.READY or now < self._hold_until.get(worker, 0.0):
            return None
        if limits.max_memory is not None and worker.rss > limits.max_memory * MB:
            return f"RSS {worker.rss / MB:.0f} MB is over --max-memory {limits.max_memory}"
        if limits.max_age is not None:
            limit = self._age_limits.setdefault(worker, limits.max_age * (1 + self._jitter()))
            if now - worker.ready_at >= limit:
                return f"{now - worker.ready_at:.0f}s old, past --max-age {limits.max_age:g}"
        return None

    async def _recycle(self, worker: Worker, reason: str) -> None:
        failure = await self._replace(worker, f"recycling: {reason}")
        if failure:
            log.error(
                "worker %d (pid %d) keeps serving: its successor failed to start: %s",
                worker.slot,
                worker.pid,
                failure,
                extra=worker_event(worker, "recycle_failed"),
            )
            self._hold_until[worker] = self._clock() + RETRY_AFTER
