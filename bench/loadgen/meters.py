"""Latency percentiles and CPU meters (the generator's own, and the servers')."""

from __future__ import annotations

import contextlib
import resource
import time
from collections.abc import Iterable, Sequence

import psutil


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class SelfCpu:
    """CPU share of one core this load generator used between start() and share()."""

    def __init__(self) -> None:
        self._cpu = _own_cpu()
        self._wall = time.monotonic()

    def share(self) -> float:
        """CPU seconds per wall second since creation: near 1.0 means the generator saturated
        its core, and the numbers measure the generator as much as the server."""
        wall = time.monotonic() - self._wall
        return (_own_cpu() - self._cpu) / wall if wall > 0 else float("nan")


def cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    """User+system CPU seconds of these processes so far (gone ones count as 0)."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def rss_bytes(processes: Iterable[psutil.Process]) -> int:
    """Total resident memory of these processes."""
    total = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total
