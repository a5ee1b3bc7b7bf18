"""Sampling, once a second: each worker's RSS and CPU, the master's, and the share of new
connections each slot got over the last minute.

``sockd status`` shows the figures, and the recycler (``--max-memory``) acts on them: it
runs right after each sample.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable

import psutil

from sockd.supervisor.lifecycle.worker_state import Worker

#: How often RSS and CPU are sampled.
SAMPLE_INTERVAL = 1.0
#: Shares of new connections are counted over this window, so they say what happens now.
SHARE_WINDOW = 60.0


class ShareWindow:
    """Connections handed to each slot: snapshots over the last :data:`SHARE_WINDOW`."""

    def __init__(self) -> None:
        self._snapshots: deque[tuple[float, dict[int, int]]] = deque()

    def record(self, now: float, counts: dict[int, int]) -> None:
        self._snapshots.append((now, counts))
        while len(self._snapshots) > 1 and self._snapshots[1][0] <= now - SHARE_WINDOW:
            self._snapshots.popleft()

    def shares(self, counts: dict[int, int]) -> dict[int, float]:
        """Each slot's share of the connections handed out since the window's start."""
        base = self._snapshots[0][1] if self._snapshots else {}
        recent = {slot: max(0, count - base.get(slot, 0)) for slot, count in counts.items()}
        total = sum(recent.values())
        return {slot: count / total if total else 0.0 for slot, count in recent.items()}


class Sampler:
    def __init__(
        self,
        workers: Callable[[], Iterable[Worker]],
        handed_off: Callable[[], dict[int, int]],
        after_sample: Callable[[float], None],
        master: psutil.Process | None = None,
        interval: float = SAMPLE_INTERVAL,
    ) -> None:
        self._workers = workers
        self._handed_off = handed_off
        self._after_sample = after_sample
        self._master = master or psutil.Process()
        self._interval = interval
        self._next = 0.0
        self.shares = ShareWindow()
        self.master_rss = 0
        self.master_cpu_percent = 0.0

    def tick(self, now: float) -> None:
        """Sample if a sample is due."""
        if now < self._next:
            return
        self._next = now + self._interval
        for worker in self._workers():
            worker.sample()
        with contextlib.suppress(psutil.Error, OSError):  # OSError: out of descriptors
            self.master_rss = self._master.memory_info().rss
            self.master_cpu_percent = self._master.cpu_percent(None)
        self.shares.record(now, self._handed_off())
        self._after_sample(now)
