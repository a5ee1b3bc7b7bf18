"""The master's observation, wired: the ledger of workers, the metrics, the health answer
and the listeners that serve them, from the components that hold the figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from sockd.config.options import ClusterOptions
from sockd.supervisor.lifecycle.slot_table import SlotTable
from sockd.supervisor.lifecycle.worker_state import Worker
from sockd.supervisor.observe.collector import ClusterCollector, Sources
from sockd.supervisor.observe.endpoints import Endpoints, metrics_registry
from sockd.supervisor.observe.health import Health
from sockd.supervisor.observe.ledger import WorkerLedger
from sockd.wire.histogram import Histogram


class Routing(Protocol):
    """The dispatcher's figures."""

    dropped: int
    waits: Histogram

    @property
    def refused_per_address(self) -> int: ...

    def handed_off_by_slot(self) -> dict[int, int]: ...
    def queued(self) -> int: ...


class Accepting(Protocol):
    """The acceptor's figures."""

    accepted: int

    @property
    def holding_back(self) -> bool: ...


class Observer:
    def __init__(
        self,
        title: str,
        table: SlotTable[Worker],
        routing: Routing,
        acceptor: Callable[[], Accepting],
        stopping: Callable[[], bool],
        reloads: Mapping[str, int],
        options: Callable[[], ClusterOptions],
    ) -> None:
        """``reloads``: the reloader's results, kept up to date by it; ``options``: the
        options in force (a reload changes ``--timeout``, ``--redis``)."""
        self.ledger = WorkerLedger(
            lambda: table.current,
            stopping,
            lambda: options().cluster.timeout,
            time.monotonic,
        )
        self.health = Health(
            lambda: table.current,
            lambda: table.count,
            lambda: table.booted,
            stopping,
            lambda: options().worker.redis_url is not None,
        )
        sources = Sources(
            title=title,
            workers=lambda: table.live,
            slot_count=lambda: table.count,
            ledger=self.ledger,
            handed_off=routing.handed_off_by_slot,
            handoff_waits=routing.waits,
            queued=routing.queued,
            accepted=lambda: acceptor().accepted,
            holding_back=lambda: acceptor().holding_back,
            dropped=lambda: routing.dropped,
            refused_per_address=lambda: routing.refused_per_address,
            reloads=lambda: reloads,
            healthy=lambda: self.health.answer().healthy,
        )
        registry = metrics_registry(ClusterCollector(sources))
        self.endpoints = Endpoints(options().cluster, registry, self.health)

    def track(self, worker: Worker) -> Worker:
        """A worker just built; returned as it is."""
        self.ledger.track(worker)
        return worker
