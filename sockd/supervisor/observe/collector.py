"""The metrics the master serves, as a prometheus_client collector read at each scrape.

Nothing here counts: the figures already exist in the master's components (the slot table,
the dispatcher, the acceptor, the reloader, the workers' STATS reports, the ledger of
exited workers) and are read in one go, inside one turn of the master's event loop, so a
scrape sees one consistent moment, during a reload too. prometheus_client writes the text
format. The names, with their help, are :data:`HELP`; the README's table lists them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from sockd import __version__
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.supervisor.observe.ledger import Labels, Totals, WorkerLedger
from sockd.wire.histogram import Histogram

HELP = {
    "sockd_info": "The sockd serving (version, title); always 1.",
    "sockd_healthy": "1 while the health endpoint answers 200, else 0.",
    "sockd_workers": "Worker processes by state; restarting: slots waiting for their worker.",
    "sockd_worker_restarts": "Workers restarted or replaced in a slot, by why the last one went.",
    "sockd_reloads": "Rolling reloads finished, by result (ok, aborted, failed).",
    "sockd_accepted_connections": "Connections the master accepted.",
    "sockd_handoffs": "Connections handed to a slot's workers.",
    "sockd_handoff_wait_seconds": "How long a connection waited in the master for its worker.",
    "sockd_handoff_queued_connections": "Connections waiting in the master for a worker now.",
    "sockd_dropped_connections": "Connections closed because no worker could take them in time.",
    "sockd_refused_connections": "Connections the edge limits closed, by limit.",
    "sockd_accept_paused": "1 while --max-pending holds accepting back, else 0.",
    "sockd_connections": "Client connections open in a slot's workers.",
    "sockd_engineio_sessions": "Engine.IO sessions open in a slot's workers, by transport.",
    "sockd_socketio_connects": "Socket.IO namespace connects accepted.",
    "sockd_socketio_connects_refused": "Socket.IO namespace connects refused (middleware, auth).",
    "sockd_socketio_events": "Socket.IO events received from clients.",
    "sockd_event_handler_seconds": "How long the app's event handlers took.",
    "sockd_bus_messages": "Cluster bus messages, published and received by the workers.",
    "sockd_bus_dropped": "Bus messages dropped because the worker's outbound queue was full.",
    "sockd_bus_connected": "1 while the slot's bus is connected, 0 while degraded.",
    "sockd_bus_queued_messages": "Bus messages waiting in the slot's outbound queue.",
    "sockd_bus_lag_seconds": "How long the slot's last bus probe took from publish to delivery.",
    "sockd_worker_rss_bytes": "Resident memory of a slot's workers.",
    "sockd_worker_cpu_seconds": "CPU time (user and system) of a slot's workers, exited included.",
}


#: Label values -> value.
Series = Mapping[tuple[str, ...], float]


class NeverBack:
    """Counters read from a source that may start again from zero (a slot's hand-off count
    once the slot is removed and added back): what was counted before is kept."""

    def __init__(self) -> None:
        self._last: dict[Any, float] = {}
        self._before: dict[Any, float] = {}

    def values(self, raw: Mapping[Any, float]) -> dict[Any, float]:
        for key, value in raw.items():
            if value < self._last.get(key, 0):
                self._before[key] = self._before.get(key, 0) + self._last[key]
            self._last[key] = value
        return {key: self._before.get(key, 0) + value for key, value in self._last.items()}


@dataclass(frozen=True)
class Sources:
    """Where the figures come from (callables into the master's components)."""

    title: str
    workers: Callable[[], Iterable[Worker]]
    slot_count: Callable[[], int]
    ledger: WorkerLedger
    handed_off: Callable[[], dict[int, int]]
    handoff_waits: Histogram
    queued: Callable[[], int]
    accepted: Callable[[], int]
    holding_back: Callable[[], bool]
    dropped: Callable[[], int]
    refused_per_address: Callable[[], int]
    reloads: Callable[[], Mapping[str, int]]
    healthy: Callable[[], bool]


class ClusterCollector(Collector):
    def __init__(self, sources: Sources) -> None:
        self._sources = sources
        self._handoffs = NeverBack()

    def collect(self) -> Iterator[Metric]:
        src = self._sources
        workers = list(src.workers())
        info = GaugeMetricFamily("sockd_info", HELP["sockd_info"], labels=["version", "title"])
        info.add_metric([__version__, src.title], 1)
        yield info
        yield _gauge("sockd_healthy", {(): 1 if src.healthy() else 0})
        yield _gauge("sockd_workers", _states(workers, src.slot_count()), ["state"])
        yield from self._routing(src)
        yield from _per_slot(workers)
        yield from _totals(src.ledger.totals())
        restarts: Series = {(str(s), why): n for (s, why), n in src.ledger.restarts.items()}
        yield _counter("sockd_worker_restarts", restarts, ["slot", "reason"])
        yield _counter("sockd_reloads", {(r,): n for r, n in src.reloads().items()}, ["result"])

    def _routing(self, src: Sources) -> Iterator[Metric]:
        yield _counter("sockd_accepted_connections", {(): src.accepted()})
        handed = self._handoffs.values(src.handed_off())
        yield _counter("sockd_handoffs", {(str(s),): n for s, n in handed.items()}, ["slot"])
        yield _histogram("sockd_handoff_wait_seconds", {(): src.handoff_waits})
        yield _gauge("sockd_handoff_queued_connections", {(): src.queued()})
        yield _counter("sockd_dropped_connections", {(): src.dropped()})
        refused: Series = {("max_per_address",): src.refused_per_address()}
        yield _counter("sockd_refused_connections", refused, ["reason"])
        yield _gauge("sockd_accept_paused", {(): 1 if src.holding_back() else 0})


def _states(workers: list[Worker], slot_count: int) -> dict[tuple[str, ...], float]:
    counts: dict[tuple[str, ...], float] = {
        (state.value,): 0 for state in WorkerState if state is not WorkerState.EXITED
    }
    for worker in workers:
        if worker.state is not WorkerState.EXITED:
            counts[(worker.state.value,)] += 1
    occupied = {w.slot for w in workers if w.state is not WorkerState.EXITED}
    counts[("restarting",)] = sum(1 for slot in range(slot_count) if slot not in occupied)
    return counts


def _per_slot(workers: list[Worker]) -> Iterator[Metric]:
    """Figures of the live workers, added up per slot (two during a replacement)."""
    connections: dict[tuple[str, ...], float] = defaultdict(float)
    sessions: dict[tuple[str, ...], float] = defaultdict(float)
    rss: dict[tuple[str, ...], float] = defaultdict(float)
    bus: dict[str, dict[tuple[str, ...], float]] = defaultdict(dict)
    for worker in workers:
        slot, stats = str(worker.slot), worker.stats
        connections[(slot,)] += _number(stats.get("connections"))
        rss[(slot,)] += worker.rss
        transports = stats.get("transports")
        for transport in ("polling", "websocket"):
            found = transports.get(transport) if isinstance(transports, dict) else None
            sessions[(slot, transport)] += _number(found)
        if worker.state is WorkerState.READY and isinstance(stats.get("bus"), dict):
            _bus_figures(bus, slot, stats["bus"])
    yield _gauge("sockd_connections", connections, ["slot"])
    yield _gauge("sockd_engineio_sessions", sessions, ["slot", "transport"])
    yield _gauge("sockd_worker_rss_bytes", rss, ["slot"])
    yield _gauge("sockd_bus_connected", bus["connected"], ["slot"])
    yield _gauge("sockd_bus_queued_messages", bus["queued"], ["slot"])
    yield _gauge("sockd_bus_lag_seconds", bus["lag"], ["slot"])


def _bus_figures(
    into: dict[str, dict[tuple[str, ...], float]], slot: str, bus: dict[str, Any]
) -> None:
    if "state" in bus:
        into["connected"][(slot,)] = 1 if bus["state"] == "connected" else 0
    for name, key in (("queued", "queued"), ("lag", "lag_seconds")):
        if isinstance(bus.get(key), int | float):
            into[name][(slot,)] = bus[key]


#: The families the workers' totals feed (``ledger.py``), with their labels: served even
#: before a first value, so a dashboard finds every name from the start.
COUNTED = {
    "sockd_socketio_connects": ["namespace"],
    "sockd_socketio_connects_refused": ["namespace"],
    "sockd_socketio_events": ["namespace"],
    "sockd_bus_messages": ["direction"],
    "sockd_bus_dropped": [],
    "sockd_worker_cpu_seconds": ["slot"],
}
TIMED = {"sockd_event_handler_seconds": ["namespace"]}


def _totals(totals: Totals) -> Iterator[Metric]:
    """The ledger's counters and histograms, one family per name."""
    counters: dict[str, dict[tuple[str, ...], float]] = {name: {} for name in COUNTED}
    for (name, labels), value in totals.counters.items():
        counters[name.removesuffix("_total")][_values(labels)] = value
    for name, series in counters.items():
        yield _counter(name, series, COUNTED[name])
    histograms: dict[str, dict[tuple[str, ...], Histogram]] = {name: {} for name in TIMED}
    for (name, labels), histogram in totals.histograms.items():
        histograms[name][_values(labels)] = histogram
    for name, timed in histograms.items():
        yield _histogram(name, timed, TIMED[name])


def _values(labels: Labels) -> tuple[str, ...]:
    return tuple(value for _, value in labels)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _gauge(
    name: str, series: Mapping[tuple[str, ...], float], labels: list[str] | None = None
) -> Metric:
    family = GaugeMetricFamily(name, HELP[name], labels=labels or [])
    for values, value in sorted(series.items()):
        family.add_metric(list(values), value)
    return family


def _counter(
    name: str, series: Mapping[tuple[str, ...], float], labels: list[str] | None = None
) -> Metric:
    family = CounterMetricFamily(name, HELP[name], labels=labels or [])
    for values, value in sorted(series.items()):
        family.add_metric(list(values), value)
    return family


def _histogram(
    name: str, series: Mapping[tuple[str, ...], Histogram], labels: list[str] | None = None
) -> Metric:
    family = HistogramMetricFamily(name, HELP[name], labels=labels or [])
    for values, histogram in sorted(series.items()):
        family.add_metric(list(values), histogram.cumulative(), histogram.sum)
    return family
