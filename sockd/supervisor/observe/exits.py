"""Why a worker left its slot, for ``sockd_worker_restarts_total{reason}``.

Read from what the master's components already record on a worker (was it ever ready,
was it asked to drain, how did it end, when did it last beat) and from who holds the slot
now, once the slot keeper has handled the exit: no component has to report it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState

#: The reasons, in the order the README lists them.
REASONS = ("crash", "hung", "start_failed", "reload", "recycle")


def exit_reason(
    worker: Worker,
    current: Mapping[int, Worker],
    stopping: bool,
    heartbeat_timeout: float,
    now: float,
) -> str | None:
    """The reason ``worker`` (just reaped) was restarted or replaced, or None when its slot
    does not start another one for it: the master stops, the slot was removed, or it was a
    successor that failed to take over (the reload's result says that)."""
    if stopping:
        return None
    holder = current.get(worker.slot)
    drained = worker.drain_deadline > 0
    if drained:
        if holder is None or holder is worker or holder.started_at < worker.started_at:
            return None  # its slot was removed (or it was drained before it was ready)
        return "reload" if holder.generation > worker.generation else "recycle"
    if worker.ready_at == 0:
        own = holder is worker or holder is None or holder.state is WorkerState.EXITED
        return "start_failed" if own else None
    if _killed(worker) and now - worker.last_heartbeat >= heartbeat_timeout:
        return "hung"  # the watchdog's kill: its loop had stopped beating
    return "crash"


def _killed(worker: Worker) -> bool:
    status = worker.exit_status
    return status is not None and os.waitstatus_to_exitcode(status) == -signal.SIGKILL
