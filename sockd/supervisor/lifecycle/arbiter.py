"""The master's lifecycle: start the slots, keep them alive, change them, stop them.

Vocabulary from gunicorn's arbiter: signal handlers only queue the signal and the main
loop acts on it; a worker that dies is restarted in its own slot with exponential
backoff; a worker that cannot even start (import error, bad config) stops the master
with its own error rather than looping forever. The signals:

- TERM, INT: graceful stop (a second INT, or QUIT, cuts the drain short); QUIT: quick stop
- HUP: rolling reload (reload.py); TTIN, TTOU: one slot more, one fewer
- USR1: reopen the log file, and have the workers reopen it too
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import psutil

from sockd.config.options import ClusterOptions
from sockd.control.server import ControlServer
from sockd.errors import StartupError
from sockd.logs import reopen_log_files, set_log_level
from sockd.supervisor.lifecycle.recycler import Recycler
from sockd.supervisor.lifecycle.reload import HANDOVER_GRACE, OptionsLoader, Reloader, Replacer
from sockd.supervisor.lifecycle.status import ShareWindow, build_status
from sockd.supervisor.lifecycle.watcher import ChangeWatcher
from sockd.supervisor.lifecycle.worker_process import WorkerProcess, WorkerState
from sockd.supervisor.routing.acceptor import Acceptor
from sockd.supervisor.routing.dispatcher import Dispatcher
from sockd.supervisor.routing.keys import build_resolver
from sockd.supervisor.system.daemonize import redirect_output
from sockd.supervisor.system.listeners import bind_listeners, describe, inherited_listeners
from sockd.supervisor.system.sd_notify import Notifier
from sockd.wire.frames import Kind, encode_frame

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
#: A draining worker still there this long after its drain deadline is killed.
DRAIN_KILL_MARGIN = 5.0
#: How often RSS and CPU are sampled (for status and --max-memory).
SAMPLE_INTERVAL = 1.0
#: How often ``sockd dev`` looks for changed files.
WATCH_INTERVAL = 1.0
MAX_WORKERS = 1024
#: A serving worker silent this long stops systemd's watchdog pings (heartbeats: 1 s).
HEARTBEAT_OVERDUE = 5.0
#: How often systemd's STATUS= line is refreshed.
STATUS_INTERVAL = 2.0

_GRACEFUL = (signal.SIGTERM, signal.SIGINT)
_QUICK = (signal.SIGQUIT,)
_CONTROL = (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR1)

#: Told once every slot's first worker is ready, with a one-line summary.
ReadyCallback = Callable[[str], None]


def _event(worker: WorkerProcess, name: str) -> dict[str, Any]:
    """Fields of a log line about one worker (shown by ``--log-format json``)."""
    return {"slot": worker.slot, "worker_pid": worker.pid, "event": name}


def _kill(worker: WorkerProcess, why: str, event: str, level: int = logging.ERROR) -> None:
    """SIGKILL ``worker``, with one log line saying why."""
    log.log(
        level,
        "worker %d (pid %d) %s: killing it",
        worker.slot,
        worker.pid,
        why,
        extra=_event(worker, event),
    )
    worker.signal(signal.SIGKILL)


class Arbiter:
    def __init__(
        self,
        options: ClusterOptions,
        load_options: OptionsLoader,
        *,
        control_path: Path | None = None,
        on_ready: ReadyCallback | None = None,
    ) -> None:
        self.options = options
        #: slot -> the worker the slot's connections go to.
        self.workers: dict[int, WorkerProcess] = {}
        #: slot -> a successor that takes the slot over once it is ready.
        self.incoming: dict[int, WorkerProcess] = {}
        #: Every worker not reaped yet, in any state.
        self.live: list[WorkerProcess] = []
        self.slot_count = options.cluster.workers
        #: Reloads so far; each worker records the one it was started in.
        self.generation = 0
        #: slot -> restarts after an unexpected exit.
        self.restarts: dict[int, int] = {}
        self.started_at = time.monotonic()
        self.shares = ShareWindow()
        self.master_rss = 0
        self.master_cpu_percent = 0.0
        self.replacer = Replacer(self)
        self.reloader = Reloader(self, self.replacer, load_options)
        self.recycler = Recycler(self, self.replacer)
        self.dispatcher: Dispatcher
        self.acceptor: Acceptor
        self._master = psutil.Process()
        self._failures: dict[int, int] = {}
        self._restart_at: dict[int, float] = {}
        self._signals: asyncio.Queue[int] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._booted = False
        self._stopping = False
        self._stop_timeout: float | None = None
        self._stop_reason: str | None = None
        self._fatal: str | None = None
        self._next_sample = 0.0
        self._announce_ready = on_ready
        self._control = ControlServer(control_path, self.control) if control_path else None
        self._watcher: ChangeWatcher | None = None
        self._next_watch = 0.0
        #: systemd's notify socket, when run by systemd (a no-op otherwise).
        self.notifier = Notifier()
        self._next_watchdog = 0.0
        self._next_status = 0.0
        self._status = ""
        #: What the master listens on, as shown in logs and status.
        self.listening: list[str] = []

    # -- lifecycle -----------------------------------------------------------

    async def run(self) -> int:
        """Serve until a stop signal; return the exit code."""
        # Socket activation hands listeners over; then the master binds nothing itself.
        listeners = inherited_listeners(dict(os.environ)) or bind_listeners(
            self.options.cluster.binds
        )
        self.listening = [describe(listener) for listener in listeners]
        self.dispatcher = Dispatcher(
            self.slot_count,
            sticky=self.options.cluster.sticky,
            queue_timeout=self.options.queue_timeout,
            queue_limit=self.options.queue_limit,
            sessions=self._sessions,
        )
        self.acceptor = Acceptor(
            listeners, build_resolver(self.options.cluster, self.dispatcher.dispatch)
        )
        self._install_signals()
        try:
            await self._start_control()
            if self.options.watch:
                self._watcher = ChangeWatcher(self.options.worker.app.root)
            log.info(
                "master started (pid %d): %d worker(s), %s, on %s",
                os.getpid(),
                self.slot_count,
                "sticky" if self.options.cluster.sticky else "not sticky",
                ", ".join(self.listening),
            )
            for slot in range(self.slot_count):
                await self.spawn(slot)
            self.acceptor.start()
            quick = await self._main_loop()
            await self._stop(quick)
        finally:
            if self._control is not None:
                await self._control.close()
        if self._fatal:
            raise StartupError(self._fatal)
        log.info("master stopped")
        return 0

    def _sessions(self, slot: int) -> int:
        """Engine.IO sessions the slot's worker last reported (``--sticky-key sid``)."""
        worker = self.workers.get(slot)
        return int(worker.stats.get("sessions", 0)) if worker is not None else 0

    async def _start_control(self) -> None:
        if self._control is None:
            return
        try:
            await self._control.start()
        except OSError as exc:
            raise StartupError(
                f"cannot create the control socket {self._control.path}: {exc.strerror}"
            ) from None

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
                reason = self._stop_reason or f"received {signal.Signals(signum).name}"
                log.info("%s: stopping", reason)
                return signum in _QUICK
            elif signum is not None:
                self._on_control_signal(signum)
            self._tick()
        return False

    def _on_control_signal(self, signum: int) -> None:
        if signum == signal.SIGHUP:
            log.info("received SIGHUP: reloading")
            self.reloader.request()
        elif signum == signal.SIGTTIN:
            log.info("received SIGTTIN: one worker more")
            self.scale_to(self.slot_count + 1)
        elif signum == signal.SIGTTOU:
            if self.slot_count == 1:
                log.warning("received SIGTTOU: already down to one worker")
            else:
                log.info("received SIGTTOU: one worker fewer")
                self.scale_to(self.slot_count - 1)
        elif signum == signal.SIGUSR1:
            self._reopen_logs()

    def _tick(self) -> None:
        self.dispatcher.expire()
        now = time.monotonic()
        for slot, due in list(self._restart_at.items()):
            if due <= now:
                del self._restart_at[slot]
                self._start_task(self.spawn(slot))
        self._check_workers(now)
        self._notify_systemd(now)
        if now >= self._next_sample:
            self._sample(now)
        if self._watcher is not None and now >= self._next_watch:
            self._next_watch = now + WATCH_INTERVAL
            changed = self._watcher.changed()
            if changed:
                more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
                log.info("%s%s changed: reloading", changed[0], more)
                self.reloader.request()

    def _check_workers(self, now: float) -> None:
        """The watchdog: hung starts, missed heartbeats, drains that overran."""
        timeout = self.options.cluster.timeout
        for worker in self.live:
            if worker.state is WorkerState.STARTING and now - worker.started_at > STARTUP_TIMEOUT:
                worker.failure = f"not ready {STARTUP_TIMEOUT:.0f}s after it was started"
                worker.signal(signal.SIGKILL)
            elif worker.state is WorkerState.READY and now - worker.last_heartbeat > timeout:
                _kill(worker, f"missed heartbeats for {timeout:.0f}s", "heartbeat_missed")
            elif (
                worker.state is WorkerState.DRAINING
                and now > worker.drain_deadline + DRAIN_KILL_MARGIN
            ):
                _kill(worker, "still running after its drain", "drain_overran", logging.WARNING)

    def _notify_systemd(self, now: float) -> None:
        """Ping systemd's watchdog while healthy, and keep its STATUS= line current."""
        if not self.notifier.enabled:
            return
        interval = self.notifier.watchdog_interval
        if interval is not None and now >= self._next_watchdog and self._healthy(now):
            self._next_watchdog = now + interval
            self.notifier.watchdog()
        if self._booted and now >= self._next_status:
            self._next_status = now + STATUS_INTERVAL
            status = self.status_line()
            if status != self._status:
                self._status = status
                self.notifier.status(status)

    def _healthy(self, now: float) -> bool:
        """The master's loop turns (we are in it) and no serving worker's loop is stuck.

        A stuck worker stops the pings after HEARTBEAT_OVERDUE, well before the
        master's own watchdog (``--timeout``) kills it; set systemd's WatchdogSec
        above ``--timeout`` so that sockd replaces the worker first.
        """
        return all(
            now - worker.last_heartbeat < HEARTBEAT_OVERDUE
            for worker in self.live
            if worker.state is WorkerState.READY
        )

    def status_line(self) -> str:
        ready = sum(w.state is WorkerState.READY for w in self.workers.values())
        connections = sum(int(w.stats.get("connections", 0)) for w in self.live)
        return f"{ready}/{self.slot_count} workers ready, {connections} connections"

    def _sample(self, now: float) -> None:
        self._next_sample = now + SAMPLE_INTERVAL
        for worker in self.live:
            worker.sample()
        with contextlib.suppress(psutil.Error, OSError):  # OSError: out of descriptors
            self.master_rss = self._master.memory_info().rss
            self.master_cpu_percent = self._master.cpu_percent(None)
        self.shares.record(now, self.dispatcher.handed_off_by_slot())
        self.recycler.check(now)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (*_GRACEFUL, *_QUICK, *_CONTROL):
            loop.add_signal_handler(signum, self._signals.put_nowait, signum)
        # uvloop keeps add_signal_handler(SIGCHLD) for its own subprocesses,
        # which the master does not use; a plain handler wakes the loop instead.
        signal.signal(
            signal.SIGCHLD,
            lambda signum, frame: loop.call_soon_threadsafe(self._signals.put_nowait, signum),
        )

    def _start_task(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stop(self, quick: bool) -> None:
        self._stopping = True
        self.notifier.stopping()
        self._restart_at.clear()
        self.reloader.cancel()
        self.recycler.cancel()
        self.acceptor.close()
        self.dispatcher.close_all()
        timeout = 0.0 if quick else self._stop_timeout
        if timeout is None:
            timeout = self.options.cluster.graceful_timeout
        for worker in list(self.live):
            if quick:
                worker.signal(signal.SIGKILL)
            else:
                worker.drain(timeout)
        if not await self._wait_for_exit(timeout):
            for worker in self.live:
                _kill(worker, "still running", "killed", logging.WARNING)
            await self._wait_for_exit(REAP_TIMEOUT)

    async def _wait_for_exit(self, timeout: float) -> bool:
        """Reap until every worker exited (True) or ``timeout`` passed (False).

        A second SIGINT, or SIGQUIT, during the wait cuts it short, as in gunicorn.
        """
        deadline = time.monotonic() + timeout
        while self.live:
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

    # -- control -------------------------------------------------------------

    async def control(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one request from the control socket (``sockd stop|reload|status``)."""
        command = request.get("command")
        if command == "status":
            return {"ok": True, "status": build_status(self)}
        if self._stopping:
            return {"ok": False, "error": "sockd is stopping"}
        if command == "reload":
            workers = request.get("workers")
            if workers is not None and (
                type(workers) is not int or not 1 <= workers <= MAX_WORKERS
            ):
                return {"ok": False, "error": f"workers must be 1 to {MAX_WORKERS}"}
            log.info("reload asked for over the control socket")
            return await self.reloader.request(workers)
        if command == "stop":
            timeout = request.get("timeout")
            if timeout is not None:
                if type(timeout) not in (int, float) or timeout < 0:
                    return {"ok": False, "error": "timeout must be a number of seconds >= 0"}
                self._stop_timeout = float(timeout)
            self._stop_reason = "stop asked for over the control socket"
            self._signals.put_nowait(signal.SIGTERM)
            graceful = self._stop_timeout
            if graceful is None:
                graceful = self.options.cluster.graceful_timeout
            return {"ok": True, "pid": os.getpid(), "graceful_timeout": graceful}
        return {"ok": False, "error": f"unknown command {command!r}"}

    def apply_options(self, options: ClusterOptions) -> int:
        """Serve with reloaded ``options`` from now on; the new generation's number."""
        self.options = options
        set_log_level(options.cluster.log_level)
        self.generation += 1
        self.scale_to(options.cluster.workers)
        return self.generation

    def scale_to(self, count: int) -> None:
        """Add or remove slots at the top; rendezvous hashing moves only their keys."""
        count = max(1, min(count, MAX_WORKERS))
        while self.slot_count < count:
            slot = self.slot_count
            self.slot_count += 1
            log.info("slot %d added: %d worker(s)", slot, self.slot_count)
            self._start_task(self.spawn(slot))
        while self.slot_count > count:
            self.slot_count -= 1
            self._remove_slot(self.slot_count)

    def _remove_slot(self, slot: int) -> None:
        self.dispatcher.remove_slot(slot)
        self._restart_at.pop(slot, None)
        self._failures.pop(slot, None)
        log.info("slot %d removed: %d worker(s)", slot, self.slot_count)
        for worker in (self.workers.pop(slot, None), self.incoming.pop(slot, None)):
            if worker is not None and worker.state is not WorkerState.EXITED:
                worker.drain(self.options.cluster.graceful_timeout)

    def _reopen_logs(self) -> None:
        log_file = self.options.cluster.log_file
        if not log_file:
            log.info("received SIGUSR1: logging to stderr, no log file to reopen")
            return
        reopen_log_files()
        if self.options.cluster.daemon:
            redirect_output(log_file)
        for worker in self.live:
            if worker.state in (WorkerState.READY, WorkerState.DRAINING):
                worker.signal(signal.SIGUSR1)
        log.info("received SIGUSR1: reopened %s", log_file)

    # -- workers -------------------------------------------------------------

    async def spawn(self, slot: int, incoming: bool = False) -> WorkerProcess | None:
        """Start a worker for ``slot``: its worker, or (``incoming``) its successor."""
        if self._stopping or slot >= self.slot_count:
            return None
        worker = WorkerProcess(slot, self.options.worker, self._on_frame, self.generation)
        try:
            await worker.spawn()
        except OSError as exc:
            # Out of processes or descriptors: try again later, like a crash.
            log.error("cannot start worker %d: %s", slot, exc)
            if not incoming:
                self._failures[slot] = self._failures.get(slot, 0) + 1
                self._schedule_restart(slot)
            return None
        self.live.append(worker)
        log.info("worker %d started (pid %d)", slot, worker.pid, extra=_event(worker, "started"))
        if self._stopping or slot >= self.slot_count:
            worker.drain(self.options.cluster.graceful_timeout)  # stopped or removed meanwhile
            return None
        (self.incoming if incoming else self.workers)[slot] = worker
        return worker

    def _on_frame(self, worker: WorkerProcess, kind: Kind, payload: bytes) -> None:
        if kind is Kind.READY:
            self._on_ready(worker)
        elif kind is Kind.BUS:
            self._relay(worker, payload)

    def _on_ready(self, worker: WorkerProcess) -> None:
        if worker.state is not WorkerState.STARTING or worker.handoff is None:
            return
        slot = worker.slot
        worker.mark_ready()
        log.info("worker %d ready (pid %d)", slot, worker.pid, extra=_event(worker, "ready"))
        if self.incoming.get(slot) is worker:
            del self.incoming[slot]
            previous = self.workers.get(slot)
            self.workers[slot] = worker
            self.dispatcher.slot_ready(slot, worker.handoff)
            if previous is not None and previous.state is WorkerState.READY:
                log.info(
                    "worker %d (pid %d) took over from pid %d, which drains in %.0fs",
                    slot,
                    worker.pid,
                    previous.pid,
                    HANDOVER_GRACE,
                    extra=_event(worker, "took_over"),
                )
                asyncio.get_running_loop().call_later(
                    HANDOVER_GRACE, previous.drain, self.options.cluster.graceful_timeout
                )
        elif self.workers.get(slot) is worker:
            self.dispatcher.slot_ready(slot, worker.handoff)
        self._check_booted()

    def _check_booted(self) -> None:
        if self._booted or len(self.workers) < self.slot_count:
            return
        if any(w.state is not WorkerState.READY for w in self.workers.values()):
            return
        self._booted = True
        summary = (
            f"sockd {self.options.title!r} serving on "
            f"{', '.join(self.listening)} with {self.slot_count} worker(s) "
            f"(master pid {os.getpid()})"
        )
        log.info("master ready: %d workers on %s", self.slot_count, ", ".join(self.listening))
        self.notifier.ready(self.status_line())
        if self._announce_ready is not None:
            self._announce_ready(summary)

    def _relay(self, sender: WorkerProcess, payload: bytes) -> None:
        """Forward one bus message to every other worker that has clients."""
        frame = encode_frame(Kind.BUS, payload)
        for worker in self.live:
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
            worker = next((w for w in self.live if w.pid == pid), None)
            if worker is not None:
                self._on_exit(worker, status)

    def _on_exit(self, worker: WorkerProcess, status: int) -> None:
        was = worker.state
        worker.reaped(status)
        self.live.remove(worker)
        slot = worker.slot
        if self.incoming.get(slot) is worker:
            self._on_successor_exit(worker)
            return
        current = self.workers.get(slot) is worker
        if current:
            self.dispatcher.slot_unavailable(slot)
        if self._stopping or was is WorkerState.DRAINING or not current:
            log.info(
                "worker %d (pid %d) exited: %s",
                slot,
                worker.pid,
                worker.describe_exit(),
                extra=_event(worker, "exited"),
            )
            return
        if was is WorkerState.STARTING:
            self._on_startup_failure(worker)
            return
        log.error(
            "worker %d (pid %d) exited unexpectedly: %s",
            slot,
            worker.pid,
            worker.describe_exit(),
            extra=_event(worker, "crashed"),
        )
        if slot in self.incoming:
            return  # its successor is starting and takes the slot over
        if time.monotonic() - worker.ready_at >= HEALTHY_PERIOD:
            self._failures[slot] = 0
        self._failures[slot] = self._failures.get(slot, 0) + 1
        self._schedule_restart(slot)

    def _on_successor_exit(self, worker: WorkerProcess) -> None:
        """A successor died before taking over: whoever replaces workers hears of it."""
        slot = worker.slot
        del self.incoming[slot]
        log.error(
            "worker %d (pid %d) failed to start: %s",
            slot,
            worker.pid,
            worker.failure or worker.describe_exit(),
            extra=_event(worker, "start_failed"),
        )
        current = self.workers.get(slot)
        if not self._stopping and current is not None and current.state is WorkerState.EXITED:
            self._schedule_restart(slot)  # the worker it was to replace died meanwhile

    def _on_startup_failure(self, worker: WorkerProcess) -> None:
        reason = worker.failure or worker.describe_exit()
        failures = self._failures[worker.slot] = self._failures.get(worker.slot, 0) + 1
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
            extra=_event(worker, "start_failed"),
        )
        self._schedule_restart(worker.slot)

    def _schedule_restart(self, slot: int) -> None:
        failures = min(max(self._failures.get(slot, 0), 1), 32)
        delay = min(BACKOFF_FIRST * BACKOFF_FACTOR ** (failures - 1), BACKOFF_MAX)
        self._restart_at[slot] = time.monotonic() + delay
        self.restarts[slot] = self.restarts.get(slot, 0) + 1
        log.info(
            "worker %d restarts in %.1fs", slot, delay, extra={"slot": slot, "event": "restart"}
        )
