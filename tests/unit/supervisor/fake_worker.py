"""An in-memory worker process for the master's components: what they need of
``WorkerProcess`` (``sockd/supervisor/lifecycle/worker_state.py``), with no process."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import time
from typing import Any

from sockd.supervisor.lifecycle.worker_state import WorkerState
from sockd.wire.frames import Kind

_pids = itertools.count(900_001)


class FakeWorker:
    def __init__(
        self,
        slot: int,
        generation: int = 0,
        on_frame: Any = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        spawn_error: OSError | None = None,
    ) -> None:
        self.slot = slot
        self.generation = generation
        self.pid = next(_pids)
        self.state = WorkerState.STARTING
        self.started_at = self.last_heartbeat = time.monotonic()
        self.ready_at = 0.0
        self.drain_deadline = 0.0
        self.failure: str | None = None
        self.stats: dict[str, Any] = {}
        self.rss = 0
        self.cpu_percent = 0.0
        self.cpu_seconds = 0.0
        loop = loop or asyncio.get_running_loop()
        self.outcome: asyncio.Future[bool] = loop.create_future()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.handoff: socket.socket | None = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.exit_status: int | None = None
        self._on_frame = on_frame
        self._spawn_error = spawn_error
        #: What the components did to it.
        self.signals: list[int] = []
        self.drains: list[float] = []
        self.sent: list[bytes] = []
        self.samples = 0

    def __repr__(self) -> str:
        return f"<FakeWorker slot={self.slot} pid={self.pid} {self.state.value}>"

    async def spawn(self) -> None:
        if self._spawn_error is not None:
            self.close()
            raise self._spawn_error

    def report(self, kind: Kind, payload: bytes = b"") -> None:
        """The worker sends a frame to the master."""
        self._on_frame(self, kind, payload)

    def mark_ready(self) -> None:
        self.state = WorkerState.READY
        self.ready_at = self.last_heartbeat = time.monotonic()
        if not self.outcome.done():
            self.outcome.set_result(True)

    def sample(self) -> None:
        self.samples += 1

    def send(self, frame: bytes) -> None:
        self.sent.append(frame)

    def drain(self, timeout: float) -> None:
        if self.state in (WorkerState.STARTING, WorkerState.READY):
            self.state = WorkerState.DRAINING
            self.drain_deadline = time.monotonic() + timeout
            self.drains.append(timeout)

    def signal(self, signum: int) -> None:
        self.signals.append(signum)

    def reaped(self, status: int) -> None:
        self.exit_status = status
        self.state = WorkerState.EXITED
        if not self.outcome.done():
            self.outcome.set_result(False)
        if not self.exited.done():
            self.exited.set_result(None)
        self.close()

    def describe_exit(self) -> str:
        if self.exit_status is None:
            return "still running"
        code = os.waitstatus_to_exitcode(self.exit_status)
        return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"

    def close(self) -> None:
        if self.handoff is not None:
            self.handoff.close()
            self.handoff = None


def exit_status(code: int) -> int:
    """The wait status of a process that exited with ``code``."""
    return code << 8


def killed_status(signum: int) -> int:
    """The wait status of a process killed by ``signum``."""
    return signum
