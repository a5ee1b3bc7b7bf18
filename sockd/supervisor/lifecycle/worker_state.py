"""What the master's components need to know of a worker process, and nothing more.

``WorkerProcess`` (``worker_process.py``) is the real thing; the unit tests drive every
component with a small in-memory worker that has these attributes and methods.
"""

from __future__ import annotations

import asyncio
import enum
import socket
from typing import Any, Protocol


class WorkerState(enum.Enum):
    STARTING = "starting"  # spawned, app not started yet
    READY = "ready"  # serving: receives connections and bus traffic
    DRAINING = "draining"  # asked to finish; receives nothing new
    EXITED = "exited"  # reaped


class Worker(Protocol):
    """One worker process in one slot, as the master's components see it."""

    slot: int
    pid: int
    #: Which reload's code and config the worker runs (0: those of the start).
    generation: int
    state: WorkerState
    started_at: float
    ready_at: float
    last_heartbeat: float
    #: When a drain order must have ended in an exit (then the worker is killed).
    drain_deadline: float
    #: Why it could not start, as it reported it (or as the watchdog decided).
    failure: str | None
    #: The worker's last STATS report: open connections and Engine.IO sessions.
    stats: dict[str, Any]
    rss: int
    cpu_percent: float
    #: CPU time (user and system) it used, in seconds, at the master's last sample.
    cpu_seconds: float
    #: Its wait status once reaped.
    exit_status: int | None
    #: True once ready; False if it exited before that.
    outcome: asyncio.Future[bool]
    exited: asyncio.Future[None]
    #: The master's end of the hand-off channel, while the worker lives.
    handoff: socket.socket | None

    async def spawn(self) -> None: ...
    def mark_ready(self) -> None: ...
    def sample(self) -> None: ...
    def send(self, frame: bytes) -> None: ...
    def drain(self, timeout: float) -> None: ...
    def signal(self, signum: int) -> None: ...
    def reaped(self, status: int) -> None: ...
    def describe_exit(self) -> str: ...


def worker_event(worker: Worker, name: str) -> dict[str, Any]:
    """Fields of a log line about one worker (shown by ``--log-format json``)."""
    return {"slot": worker.slot, "worker_pid": worker.pid, "event": name}
