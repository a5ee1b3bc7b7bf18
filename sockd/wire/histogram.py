"""Latency histograms bucketed where they are observed, shipped as bucket counts.

A worker observes each event handler's duration into fixed buckets (a ``bisect`` and two
additions, no allocation) and sends the counts with its STATS report once a second; the
master adds up every worker's counts and serves them as a Prometheus histogram. The master
observes the hand-off waits itself, into the same kind of buckets. Counts on the wire are
per bucket (not cumulative) and come with their bounds, so a master never mixes workers
whose buckets differ (a reload onto another sockd version).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

#: Upper bounds, in seconds, of event handler durations: a cached answer takes tens of
#: microseconds, a handler that queries a database milliseconds, a stuck one seconds.
HANDLER_BOUNDS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
#: Upper bounds, in seconds, of a connection's wait in the master for its worker: none
#: for most, up to the queue bound (5 s) while its worker restarts.
WAIT_BOUNDS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip


class Histogram:
    """Counts per bucket (the last one is +Inf) and the sum of what was observed."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound falls in that bound's bucket (le, "<=").
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def to_wire(self) -> dict[str, Any]:
        return {"le": list(self.bounds), "n": list(self.counts), "sum": self.sum}

    @classmethod
    def from_wire(cls, data: Any) -> Histogram | None:
        """A histogram as a worker sent it; None when it is malformed."""
        try:
            bounds = tuple(float(bound) for bound in data["le"])
            counts = [int(count) for count in data["n"]]
            total = float(data["sum"])
        except (KeyError, TypeError, ValueError):
            return None
        if len(counts) != len(bounds) + 1 or list(bounds) != sorted(bounds):
            return None
        histogram = cls(bounds)
        histogram.counts = counts
        histogram.sum = total
        return histogram

    def add(self, other: Histogram) -> bool:
        """Add ``other``'s counts; False (and nothing added) when its buckets differ."""
        if other.bounds != self.bounds:
            return False
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.sum += other.sum
        return True

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, count of observations <= le)`` per bucket, +Inf last: Prometheus's form."""
        buckets, running = [], 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return buckets
