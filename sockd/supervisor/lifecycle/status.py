"""What ``sockd status`` shows: the master and each worker, with live figures.

Workers report their open connections and Engine.IO sessions after every heartbeat;
the sampler (``sampler.py``) reads RSS and CPU and counts each slot's share of new
connections, so a hot worker stands out. The master row names what it actually serves
(socket-activated or inherited listeners included), not what was configured.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sockd import __version__
from sockd.config.options import ClusterOptions
from sockd.supervisor.lifecycle.sampler import Sampler
from sockd.supervisor.lifecycle.slot_table import SlotTable
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.supervisor.observe.ledger import events_counted


class Counts(Protocol):
    """The routing figures status shows (the dispatcher's)."""

    dropped: int

    def handed_off_by_slot(self) -> dict[int, int]: ...


@dataclass(frozen=True)
class MasterFigures:
    """The master's row of the status."""

    uptime: float
    rss: int
    cpu_percent: float
    #: What the master listens on (``HOST:PORT``, ``unix:PATH``).
    binds: list[str]
    sticky: bool
    workers: int
    generation: int
    reloading: bool
    accepted: int
    dropped: int
    log_file: str | None


def build_status(
    title: str,
    master: MasterFigures,
    table: SlotTable[Worker],
    handed_off: dict[int, int],
    shares: dict[int, float],
    now: float,
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for worker in sorted(table.live, key=lambda w: (w.slot, w.started_at)):
        serving = table.current.get(worker.slot) is worker
        rows.append(
            {
                "slot": worker.slot,
                "pid": worker.pid,
                "state": worker.state.value,
                # The worker the slot's new connections go to (during a replacement,
                # the other one is starting or draining).
                "serving": serving and worker.state is WorkerState.READY,
                "generation": worker.generation,
                "uptime": round(now - worker.started_at, 1),
                "restarts": table.restarts.get(worker.slot, 0),
                "connections": worker.stats.get("connections"),
                "sessions": worker.stats.get("sessions"),
                # Client events since the worker started (``sockd top`` shows their rate).
                "events": events_counted(worker.stats),
                "rss": worker.rss,
                "cpu_percent": worker.cpu_percent,
                "new_connections": handed_off.get(worker.slot, 0) if serving else None,
                "share": shares.get(worker.slot) if serving else None,
                # kind, state, degraded_since, queued, dropped, missed (worker/bus/).
                "bus": worker.stats.get("bus"),
            }
        )
    present = {row["slot"] for row in rows}
    for slot in range(table.count):
        if slot not in present:
            rows.append({"slot": slot, "pid": None, "state": "restarting", "serving": False})
    rows.sort(key=lambda row: row["slot"])
    figures = asdict(master)
    figures["uptime"] = round(master.uptime, 1)
    return {
        "title": title,
        "version": __version__,
        "master": {"pid": os.getpid(), **figures},
        "workers": rows,
    }


class StatusReport:
    """Puts the figures together: ``sockd status`` and systemd's STATUS= line."""

    def __init__(
        self,
        title: str,
        listening: list[str],
        table: SlotTable[Worker],
        sampler: Sampler,
        counts: Counts,
        accepted: Callable[[], int],
        options: Callable[[], ClusterOptions],
        reloading: Callable[[], bool],
    ) -> None:
        self._title = title
        self._listening = listening
        self._table = table
        self._sampler = sampler
        self._counts = counts
        self._accepted = accepted
        self._options = options
        self._reloading = reloading
        self._started_at = time.monotonic()

    def full(self) -> dict[str, Any]:
        now, options, table = time.monotonic(), self._options(), self._table
        figures = MasterFigures(
            uptime=now - self._started_at,
            rss=self._sampler.master_rss,
            cpu_percent=self._sampler.master_cpu_percent,
            binds=self._listening,
            sticky=options.cluster.sticky,
            workers=table.count,
            generation=table.generation,
            reloading=self._reloading(),
            accepted=self._accepted(),
            dropped=self._counts.dropped,
            log_file=options.cluster.log_file,
        )
        counts = self._counts.handed_off_by_slot()
        shares = self._sampler.shares.shares(counts)
        return build_status(self._title, figures, table, counts, shares, now)

    def line(self) -> str:
        table = self._table
        connections = sum(int(w.stats.get("connections", 0)) for w in table.live)
        return f"{table.ready_count()}/{table.count} workers ready, {connections} connections"
