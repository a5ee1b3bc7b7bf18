"""One worker process in one slot, as the master sees it: spawn, channels, state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import psutil

from sockd.config.options import WorkerOptions
from sockd.supervisor.lifecycle.worker_state import WorkerState
from sockd.supervisor.system.sd_notify import worker_environment
from sockd.wire.coalesced_writer import CoalescedWriter
from sockd.wire.frames import FrameDecoder, FrameError, Kind, encode_frame, encode_json_frame

FrameHandler = Callable[["WorkerProcess", Kind, bytes], None]


class WorkerProcess:
    """A worker process and the master's ends of its two channels.

    The worker is a fresh interpreter (``python -m sockd.worker``), so it
    imports the app anew and inherits nothing from the master's event loop.
    """

    def __init__(
        self, slot: int, options: WorkerOptions, on_frame: FrameHandler, generation: int = 0
    ) -> None:
        self.slot = slot
        self.options = options
        #: Which reload's code and config the worker runs (0: those of the start).
        self.generation = generation
        self._on_frame = on_frame
        self.state = WorkerState.STARTING
        self.pid = 0
        self.started_at = 0.0
        self.ready_at = 0.0
        self.last_heartbeat = 0.0
        #: When a drain order must have ended in an exit (then the worker is killed).
        self.drain_deadline = 0.0
        self.exit_status: int | None = None
        self.failure: str | None = None
        #: The worker's last STATS report: open connections and Engine.IO sessions.
        self.stats: dict[str, Any] = {}
        #: Resident memory (bytes) and CPU percent at the master's last sample.
        self.rss = 0
        self.cpu_percent = 0.0
        self.cpu_seconds = 0.0
        loop = asyncio.get_running_loop()
        #: True once ready; False if it exited before that.
        self.outcome: asyncio.Future[bool] = loop.create_future()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.handoff: socket.socket | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._process: psutil.Process | None = None
        self._control: asyncio.Transport | None = None
        self._control_writer: CoalescedWriter | None = None

    async def spawn(self) -> None:
        loop = asyncio.get_running_loop()
        handoff_parent, handoff_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            control_parent, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError:
            handoff_parent.close()
            handoff_child.close()
            raise
        try:
            command = [
                sys.executable, "-m", "sockd.worker",
                "--slot", str(self.slot),
                "--handoff-fd", str(handoff_child.fileno()),
                "--control-fd", str(control_child.fileno()),
            ]  # fmt: skip
            self._popen = subprocess.Popen(
                command,
                pass_fds=(handoff_child.fileno(), control_child.fileno()),
                env=worker_environment(),
            )
        except BaseException:
            handoff_parent.close()
            control_parent.close()
            raise
        finally:
            handoff_child.close()
            control_child.close()
        self.pid = self._popen.pid
        self.started_at = self.last_heartbeat = time.monotonic()
        handoff_parent.setblocking(False)
        self.handoff = handoff_parent
        control_parent.setblocking(False)
        self._control, _ = await loop.create_unix_connection(
            lambda: _ControlProtocol(self), sock=control_parent
        )
        self._control_writer = CoalescedWriter(self._control)
        # The worker reads its options before anything else: never on argv, where ps shows them.
        self._control_writer.write(encode_frame(Kind.OPTIONS, self.options.to_wire()))

    def handle_frame(self, kind: Kind, payload: bytes) -> None:
        if kind is Kind.HEARTBEAT:
            self.last_heartbeat = time.monotonic()
        elif kind is Kind.FAILED:
            self.failure = payload.decode(errors="replace")
        elif kind is Kind.STATS:
            self.stats = json.loads(payload)
        self._on_frame(self, kind, payload)

    def mark_ready(self) -> None:
        self.state = WorkerState.READY
        self.ready_at = self.last_heartbeat = time.monotonic()
        if not self.outcome.done():
            self.outcome.set_result(True)

    def sample(self) -> None:
        """Read the worker's RSS and CPU use (percent: since the previous sample)."""
        if not self.pid or self.exit_status is not None:
            return
        try:
            if self._process is None:
                self._process = psutil.Process(self.pid)
            with self._process.oneshot():
                self.rss = self._process.memory_info().rss
                self.cpu_percent = self._process.cpu_percent(None)
                times = self._process.cpu_times()
                self.cpu_seconds = times.user + times.system
        except (psutil.Error, OSError):
            pass  # exiting (the reaper will tell), or out of descriptors for /proc

    def send(self, frame: bytes) -> None:
        """Queue a frame for the worker; dropped silently once the worker is gone."""
        if self._control_writer is not None:
            self._control_writer.write(frame)

    def drain(self, timeout: float) -> None:
        """Ask the worker to close its sessions and exit within ``timeout``."""
        if self.state in (WorkerState.STARTING, WorkerState.READY):
            self.state = WorkerState.DRAINING
            self.drain_deadline = time.monotonic() + timeout
            self.send(encode_json_frame(Kind.DRAIN, {"timeout": timeout}))
            if self._popen is not None and self.exit_status is None:
                # A worker still importing the app cannot read the order yet.
                self.signal(signal.SIGTERM)

    def signal(self, signum: int) -> None:
        if self.exit_status is None and self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def reaped(self, status: int) -> None:
        """Record the wait status and release both channels."""
        self.exit_status = status
        self.state = WorkerState.EXITED
        if not self.outcome.done():
            self.outcome.set_result(False)
        if not self.exited.done():
            self.exited.set_result(None)
        if self._popen is not None:
            self._popen.returncode = os.waitstatus_to_exitcode(status)
        if self.handoff is not None:
            self.handoff.close()
            self.handoff = None
        if self._control is not None:
            self._control.abort()
            self._control = self._control_writer = None

    def describe_exit(self) -> str:
        if self.exit_status is None:
            return "still running"
        code = os.waitstatus_to_exitcode(self.exit_status)
        if code < 0:
            return f"killed by {signal.Signals(-code).name}"
        return f"exit code {code}"


class _ControlProtocol(asyncio.Protocol):
    """Reads frames from a worker's control channel."""

    def __init__(self, worker: WorkerProcess) -> None:
        self._worker = worker
        self._decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
        except FrameError as exc:
            self._worker.failure = f"garbage on the control channel: {exc}"
            self._worker.signal(signal.SIGKILL)
            return
        for kind, payload in frames:
            self._worker.handle_frame(kind, payload)
