"""Every worker's totals, added up, including the workers that are gone.

A worker reports its totals since it started (connects, events, handler times, bus
messages) with each STATS frame, and the sampler reads its CPU time; both only grow while
it lives. When a worker exits, its last figures move into the retired totals, so a
cluster total never goes back across a crash, a kill, a reload or a recycle (a SIGKILLed
worker's last second of events, sent with no report after it, is the one thing lost).
Each exit that costs the slot its worker is counted by reason (``exits.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sockd.supervisor.lifecycle.worker_state import Worker
from sockd.supervisor.observe.exits import exit_reason
from sockd.wire.histogram import Histogram

Labels = tuple[tuple[str, str], ...]
#: (metric name, labels)
Key = tuple[str, Labels]


class Totals:
    """Counter values and histograms by metric name and labels."""

    def __init__(self) -> None:
        self.counters: dict[Key, float] = {}
        self.histograms: dict[Key, Histogram] = {}

    def count(self, key: Key, value: float) -> None:
        self.counters[key] = self.counters.get(key, 0.0) + value

    def observe(self, key: Key, histogram: Histogram) -> None:
        mine = self.histograms.get(key)
        if mine is None:
            mine = self.histograms[key] = Histogram(histogram.bounds)
        mine.add(histogram)  # buckets of another sockd version: left out

    def add(self, other: Totals) -> None:
        for key, value in other.counters.items():
            self.count(key, value)
        for key, histogram in other.histograms.items():
            self.observe(key, histogram)


def worker_totals(worker: Worker) -> Totals:
    """One worker's totals: its last STATS report, and its CPU time."""
    totals = Totals()
    slot = (("slot", str(worker.slot)),)
    totals.count(("sockd_worker_cpu_seconds_total", slot), worker.cpu_seconds)
    report = worker.stats
    counters = report.get("counters")
    if isinstance(counters, dict):
        _read_counters(totals, counters)
    bus = report.get("bus")
    if isinstance(bus, dict):
        _read_bus(totals, bus)
    return totals


def events_counted(report: dict[str, Any]) -> int | None:
    """The client events a worker's STATS report counts, over every namespace."""
    counters = report.get("counters")
    if not isinstance(counters, dict) or not isinstance(counters.get("events"), dict):
        return None
    return int(sum(value for _, value in _numbers(counters["events"])))


def _read_counters(totals: Totals, counters: dict[str, Any]) -> None:
    for family in ("connects", "connects_refused", "events"):
        for namespace, value in _numbers(counters.get(family.removeprefix("connects_"))):
            totals.count((f"sockd_socketio_{family}_total", (("namespace", namespace),)), value)
    handlers = counters.get("handlers")
    for namespace, data in handlers.items() if isinstance(handlers, dict) else ():
        histogram = Histogram.from_wire(data)
        if histogram is not None:
            totals.observe(
                ("sockd_event_handler_seconds", (("namespace", str(namespace)),)), histogram
            )


def _read_bus(totals: Totals, bus: dict[str, Any]) -> None:
    for direction in ("published", "received"):
        value = bus.get(direction)
        if isinstance(value, int | float):
            totals.count(("sockd_bus_messages_total", (("direction", direction),)), value)
    dropped = bus.get("dropped")
    if isinstance(dropped, int | float):
        totals.count(("sockd_bus_dropped_total", ()), dropped)


def _numbers(values: Any) -> Iterator[tuple[str, float]]:
    if isinstance(values, dict):
        for name, value in values.items():
            if isinstance(value, int | float):
                yield str(name), value


class WorkerLedger:
    """Knows every worker from its spawn; keeps each one's totals after it exits."""

    def __init__(
        self,
        current: Callable[[], Mapping[int, Worker]],
        stopping: Callable[[], bool],
        heartbeat_timeout: Callable[[], float],
        clock: Callable[[], float],
    ) -> None:
        """``current``: each slot's worker (the slot table's); ``stopping``: whether the
        master stops (exits then restart nothing)."""
        self._current = current
        self._stopping = stopping
        self._heartbeat_timeout = heartbeat_timeout
        self._clock = clock
        self._live: list[Worker] = []
        self.retired = Totals()
        #: (slot, reason) -> workers restarted or replaced in that slot for that reason.
        self.restarts: dict[tuple[int, str], int] = {}

    def track(self, worker: Worker) -> None:
        """A worker was just built; its exit is noticed through its ``exited`` future."""
        self._live.append(worker)
        worker.exited.add_done_callback(lambda _: self.retire(worker))

    def retire(self, worker: Worker) -> None:
        """``worker`` was reaped (the slot keeper has handled it): keep its totals."""
        if worker not in self._live:
            return
        self._live.remove(worker)
        self.retired.add(worker_totals(worker))
        reason = exit_reason(
            worker, self._current(), self._stopping(), self._heartbeat_timeout(), self._clock()
        )
        if reason is not None:
            key = (worker.slot, reason)
            self.restarts[key] = self.restarts.get(key, 0) + 1

    def totals(self) -> Totals:
        """The retired totals plus every live worker's."""
        totals = Totals()
        totals.add(self.retired)
        self._live = [worker for worker in self._live if worker.pid]  # pid 0: spawn failed
        for worker in self._live:
            totals.add(worker_totals(worker))
        return totals
