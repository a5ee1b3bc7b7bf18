"""The master's lifecycle: start the slots, keep them alive, stop them.

Vocabulary from gunicorn's arbiter: signal handlers only queue the signal and
the main loop acts on it; a worker that dies is restarted in its own slot with
exponential backoff; a worker that cannot even start (import error, bad
config) stops the master with its own error rather than looping forever.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

from sockd.channel import Kind, encode_frame
from sockd.errors import StartupError
from sockd.options import ClusterOptions
from sockd.supervisor.acceptor import Acceptor
from sockd.supervisor.dispatcher import Dispatcher
from sockd.supervisor.listeners import bind_listeners
from sockd.supervisor.worker_process import WorkerProcess, WorkerState

log = logging.getLogger("sockd.master")

#: How often the main loop looks at queues, restarts and heartbeats.
TICK = 0.2
#: Restart delays: first, growth factor and ceiling.
BACKOFF_FIRST, BACKOFF_FACTOR, BACKOFF_MAX = 0.1, 2.0, 10.0
#: A worker that stayed ready this long resets its slot's backoff.
HEALTHY_PERIOD = 30.0
#: Consecutive failed starts of one slot, once the cluster was up, that stop the master.
MAX_STARTUP_FAILURES = 5
#: Wait for killed workers to be reaped at the very end.
REAP_TIMEOUT = 5.0
#: A worker that has not reported ready this long after spawn is killed (a hung import).
STARTUP_TIMEOUT = 60.0

_GRACEFUL = (signal.SIGTERM, signal.SIGINT)
_QUICK = (signal.SIGQUIT,)


class Arbiter:
    def __init__(self, options: ClusterOptions) -> None:
        self.options = options
        self.workers: dict[int, WorkerProcess] = {}
        self._failures = dict.fromkeys(range(options.workers), 0)
        self._restart_at: dict[int, float] = {}
        self._signals: asyncio.Queue[int] = asyncio.Queue()
        self._spawning: set[asyncio.Task[None]] = set()
        self._booted = False
        self._stopping = False
        self._fatal: str | None = None
        self._dispatcher: Dispatcher
        self._acceptor: Acceptor

    # -- lifecycle -----------------------------------------------------------

    async def run(self) -> int:
        """Serve until a stop signal; return the exit code."""
        listeners = bind_listeners(self.options.binds)
        self._dispatcher = Dispatcher(
            self.options.workers,
            sticky=self.options.sticky,
            queue_timeout=self.options.queue_timeout,
            queue_limit=self.options.queue_limit,
        )
        self._acceptor = Acceptor(listeners, self._dispatcher.dispatch)
        self._install_signals()
        log.info(
            "master started (pid %d): %d worker(s), %s, on %s",
            os.getpid(),
            self.options.workers,
            "sticky" if self.options.sticky else "not sticky",
            ", ".join(map(str, self.options.binds)),
        )
        for slot in range(self.options.workers):
            await self._spawn(slot)
        self._acceptor.start()
        quick = await self._main_loop()
        await self._stop(quick)
        if self._fatal:
            raise StartupError(self._fatal)
        log.info("master stopped")
        return 0

    async def _main_loop(self) -> bool:
        """Run until asked to stop; True when the stop must be quick."""
        while self._fatal is None:
            try:
                signum = await asyncio.wait_for(self._signals.get(), TICK)
            except TimeoutError:
                signum = None
            if signum == signal.SIGCHLD:
                self._reap()
            elif signum in _GRACEFUL or signum in _QUICK:
                log.info("received %s: stopping", signal.Signals(signum).name)
                return signum in _QUICK
            self._tick()
        return False

    def _tick(self) -> None:
        self._dispatcher.expire()
        now = time.monotonic()
        for slot, due in list(self._restart_at.items()):
            if due <= now:
                del self._restart_at[slot]
                task = asyncio.get_running_loop().create_task(self._spawn(slot))
                self._spawning.add(task)
                task.add_done_callback(self._spawning.discard)
        self._check_heartbeats(now)

    def _check_heartbeats(self, now: float) -> None:
        timeout = self.options.heartbeat_timeout
        for worker in self.workers.values():
            if worker.state is WorkerState.STARTING and now - worker.started_at > STARTUP_TIMEOUT:
                worker.failure = f"not ready {STARTUP_TIMEOUT:.0f}s after it was started"
                worker.signal(signal.SIGKILL)
            elif worker.state is WorkerState.READY and now - worker.last_heartbeat > timeout:
                log.error(
                    "worker %d (pid %d) missed heartbeats for %.0fs: killing it",
                    worker.slot,
                    worker.pid,
                    timeout,
                )
                worker.signal(signal.SIGKILL)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (*_GRACEFUL, *_QUICK):
            loop.add_signal_handler(signum, self._signals.put_nowait, signum)
        # uvloop keeps add_signal_handler(SIGCHLD) for its own subprocesses,
        # which the master does not use; a plain handler wakes the loop instead.
        signal.signal(
            signal.SIGCHLD,
            lambda signum, frame: loop.call_soon_threadsafe(self._signals.put_nowait, signum),
        )

    async def _stop(self, quick: bool) -> None:
        self._stopping = True
        self._restart_at.clear()
        self._acceptor.close()
        self._dispatcher.close_all()
        running = self._running()
        timeout = 0.0 if quick else self.options.worker.graceful_timeout
        for worker in running:
            if quick:
                worker.signal(signal.SIGKILL)
            else:
                worker.drain(timeout)
        if not await self._wait_for_exit(timeout):
            for worker in self._running():
                log.warning("worker %d (pid %d) still running: killing it", worker.slot, worker.pid)
                worker.signal(signal.SIGKILL)
            await self._wait_for_exit(REAP_TIMEOUT)

    async def _wait_for_exit(self, timeout: float) -> bool:
        """Reap until every worker exited (True) or ``timeout`` passed (False).

        A second SIGINT, or SIGQUIT, during the wait cuts it short, as in gunicorn.
        """
        deadline = time.monotonic() + timeout
        while self._running():
            self._reap()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                signum = await asyncio.wait_for(self._signals.get(), min(TICK, remaining))
            except TimeoutError:
                continue
            if signum in (signal.SIGINT, *_QUICK):
                log.info("received %s while draining: stopping now", signal.Signals(signum).name)
                return False
        return True

    def _running(self) -> list[WorkerProcess]:
        return [w for w in self.workers.values() if w.state is not WorkerState.EXITED]

    # -- workers -------------------------------------------------------------

    async def _spawn(self, slot: int) -> None:
        if self._stopping:
            return
        worker = WorkerProcess(slot, self.options.worker, self._on_frame)
        try:
            await worker.spawn()
        except OSError as exc:
            # Out of processes or descriptors: try again later, like a crash.
            log.error("cannot start worker %d: %s", slot, exc)
            self._failures[slot] += 1
            self._schedule_restart(slot)
            return
        self.workers[slot] = worker
        log.info("worker %d started (pid %d)", slot, worker.pid)

    def _on_frame(self, worker: WorkerProcess, kind: Kind, payload: bytes) -> None:
        if kind is Kind.READY:
            self._on_ready(worker)
        elif kind is Kind.BUS:
            self._relay(worker, payload)

    def _on_ready(self, worker: WorkerProcess) -> None:
        if worker.state is not WorkerState.STARTING or worker.handoff is None:
            return
        worker.mark_ready()
        self._dispatcher.slot_ready(worker.slot, worker.handoff)
        log.info("worker %d ready (pid %d)", worker.slot, worker.pid)
        if (
            not self._booted
            and all(w.state is WorkerState.READY for w in self.workers.values())
            and len(self.workers) == self.options.workers
        ):
            self._booted = True
            log.info(
                "master ready: %d workers on %s",
                self.options.workers,
                ", ".join(map(str, self.options.binds)),
            )

    def _relay(self, sender: WorkerProcess, payload: bytes) -> None:
        """Forward one bus message to every other worker that has clients."""
        frame = encode_frame(Kind.BUS, payload)
        for worker in self.workers.values():
            if worker is not sender and worker.state in (WorkerState.READY, WorkerState.DRAINING):
                worker.send(frame)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = self._find(pid)
            if worker is not None:
                self._on_exit(worker, status)

    def _find(self, pid: int) -> WorkerProcess | None:
        for worker in self.workers.values():
            if worker.pid == pid and worker.state is not WorkerState.EXITED:
                return worker
        return None

    def _on_exit(self, worker: WorkerProcess, status: int) -> None:
        was = worker.state
        worker.reaped(status)
        current = self.workers.get(worker.slot) is worker
        if current:
            self._dispatcher.slot_unavailable(worker.slot)
        if self._stopping or was is WorkerState.DRAINING:
            log.info(
                "worker %d (pid %d) exited: %s", worker.slot, worker.pid, worker.describe_exit()
            )
            return
        if was is WorkerState.STARTING:
            self._on_startup_failure(worker)
            return
        log.error(
            "worker %d (pid %d) exited unexpectedly: %s",
            worker.slot,
            worker.pid,
            worker.describe_exit(),
        )
        if time.monotonic() - worker.ready_at >= HEALTHY_PERIOD:
            self._failures[worker.slot] = 0
        self._failures[worker.slot] += 1
        self._schedule_restart(worker.slot)

    def _on_startup_failure(self, worker: WorkerProcess) -> None:
        reason = worker.failure or worker.describe_exit()
        self._failures[worker.slot] += 1
        failures = self._failures[worker.slot]
        if not self._booted or failures >= MAX_STARTUP_FAILURES:
            self._fatal = f"worker {worker.slot} failed to start: {reason}"
            log.error("%s; stopping", self._fatal)
            return
        log.error(
            "worker %d (pid %d) failed to start (%d in a row): %s",
            worker.slot,
            worker.pid,
            failures,
            reason,
        )
        self._schedule_restart(worker.slot)

    def _schedule_restart(self, slot: int) -> None:
        failures = min(self._failures[slot], 32)
        delay = min(BACKOFF_FIRST * BACKOFF_FACTOR ** (failures - 1), BACKOFF_MAX)
        self._restart_at[slot] = time.monotonic() + delay
        log.info("worker %d restarts in %.1fs", slot, delay)
