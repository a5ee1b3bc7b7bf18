"""The watchdog: workers that hang at start, stop sending heartbeats, or overrun a drain.

Workers send a heartbeat from inside their event loop every second, so a handler that
blocks the loop stops them; the master kills such a worker and the slot keeper restarts
it. The same heartbeats say whether the cluster is healthy, which decides systemd's
watchdog pings (``systemd_reporter.py``).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterable

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState, worker_event

log = logging.getLogger("sockd.master")

#: A worker that has not reported ready this long after spawn is killed (a hung import).
STARTUP_TIMEOUT = 60.0
#: A draining worker still there this long after its drain deadline is killed.
DRAIN_KILL_MARGIN = 5.0
#: A serving worker silent this long makes the cluster unhealthy (heartbeats: 1 s).
HEARTBEAT_OVERDUE = 5.0


class Watchdog:
    def __init__(
        self, workers: Callable[[], Iterable[Worker]], heartbeat_timeout: Callable[[], float]
    ) -> None:
        self._workers = workers
        self._heartbeat_timeout = heartbeat_timeout

    def check(self, now: float) -> None:
        """Kill every worker that hangs at start, missed its heartbeats, or overran a drain."""
        timeout = self._heartbeat_timeout()
        for worker in list(self._workers()):
            if worker.state is WorkerState.STARTING and now - worker.started_at > STARTUP_TIMEOUT:
                worker.failure = f"not ready {STARTUP_TIMEOUT:.0f}s after it was started"
                worker.signal(signal.SIGKILL)
            elif worker.state is WorkerState.READY and now - worker.last_heartbeat > timeout:
                kill(worker, f"missed heartbeats for {timeout:.0f}s", "heartbeat_missed")
            elif (
                worker.state is WorkerState.DRAINING
                and now > worker.drain_deadline + DRAIN_KILL_MARGIN
            ):
                kill(worker, "still running after its drain", "drain_overran", logging.WARNING)

    def healthy(self, now: float) -> bool:
        """No serving worker's loop is stuck (the master's own loop runs: we are in it).

        A stuck worker makes this False after HEARTBEAT_OVERDUE, well before the
        watchdog kills it (``--timeout``); set systemd's WatchdogSec above ``--timeout``
        so that sockd replaces the worker first.
        """
        return all(
            now - worker.last_heartbeat < HEARTBEAT_OVERDUE
            for worker in self._workers()
            if worker.state is WorkerState.READY
        )


def kill(worker: Worker, why: str, event: str, level: int = logging.ERROR) -> None:
    """SIGKILL ``worker``, with one log line saying why."""
    log.log(
        level,
        "worker %d (pid %d) %s: killing it",
        worker.slot,
        worker.pid,
        why,
        extra=worker_event(worker, event),
    )
    worker.signal(signal.SIGKILL)
