"""What ``sockd status`` shows: the master and each worker, with live figures.

Workers report their open connections and Engine.IO sessions after every heartbeat;
the master samples RSS and CPU with psutil and counts the connections it hands to each
slot, so a hot worker stands out.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from sockd import __version__
from sockd.supervisor.lifecycle.worker_process import WorkerState

if TYPE_CHECKING:
    from sockd.supervisor.lifecycle.arbiter import Arbiter

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


def build_status(arbiter: Arbiter) -> dict[str, Any]:
    now = time.monotonic()
    options = arbiter.options
    counts = arbiter.dispatcher.handed_off_by_slot()
    shares = arbiter.shares.shares(counts)
    rows: list[dict[str, Any]] = []
    for worker in sorted(arbiter.live, key=lambda w: (w.slot, w.started_at)):
        serving = arbiter.workers.get(worker.slot) is worker
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
                "restarts": arbiter.restarts.get(worker.slot, 0),
                "connections": worker.stats.get("connections"),
                "sessions": worker.stats.get("sessions"),
                "rss": worker.rss,
                "cpu_percent": worker.cpu_percent,
                "new_connections": counts.get(worker.slot, 0) if serving else None,
                "share": shares.get(worker.slot) if serving else None,
            }
        )
    present = {row["slot"] for row in rows}
    for slot in range(arbiter.slot_count):
        if slot not in present:
            rows.append({"slot": slot, "pid": None, "state": "restarting", "serving": False})
    rows.sort(key=lambda row: row["slot"])
    return {
        "title": options.title,
        "version": __version__,
        "master": {
            "pid": os.getpid(),
            "uptime": round(now - arbiter.started_at, 1),
            "rss": arbiter.master_rss,
            "cpu_percent": arbiter.master_cpu_percent,
            "binds": [str(bind) for bind in options.cluster.binds],
            "sticky": options.cluster.sticky,
            "workers": arbiter.slot_count,
            "generation": arbiter.generation,
            "reloading": arbiter.reloader.running,
            "accepted": arbiter.acceptor.accepted,
            "dropped": arbiter.dispatcher.dropped,
            "log_file": options.cluster.log_file,
        },
        "workers": rows,
    }
