"""The master's main loop: signals queued and handled in turn, components wired together.

Vocabulary from gunicorn's arbiter: signal handlers only queue the signal and the main
loop acts on it, once per turn; each concern is a component of its own, on a narrow
interface (the slot table and keeper, the watchdog, the sampler, the reloader, the
recycler, the dev watcher, systemd's reporter, the control handlers, the upgrader).
The signals:

- TERM, INT: graceful stop (a second INT, or QUIT, cuts the drain short); QUIT: quick stop
- HUP: rolling reload (reload.py); TTIN, TTOU: one slot more, one fewer
- USR1: reopen the log file, and have the workers reopen it too
- USR2: start a new master with the listeners inherited and hand over to it (upgrade.py)
"""

from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any

from sockd.config.options import ClusterOptions
from sockd.control.server import ControlServer
from sockd.errors import StartupError
from sockd.supervisor.lifecycle.boot import BootAnnouncer, ReadyCallback
from sockd.supervisor.lifecycle.control_handlers import ControlHandlers
from sockd.supervisor.lifecycle.live_options import LiveOptions
from sockd.supervisor.lifecycle.log_reopening import reopen_logs
from sockd.supervisor.lifecycle.presence import Presence
from sockd.supervisor.lifecycle.recycler import RecycleLimits, Recycler
from sockd.supervisor.lifecycle.reload import OptionsLoader, Reloader
from sockd.supervisor.lifecycle.replacer import EXIT_MARGIN, Replacer
from sockd.supervisor.lifecycle.sampler import Sampler
from sockd.supervisor.lifecycle.shutdown import settle, stop_workers
from sockd.supervisor.lifecycle.signal_queue import QUICK, STOPPING, SignalQueue
from sockd.supervisor.lifecycle.slot_keeper import HANDOVER_GRACE, SlotKeeper
from sockd.supervisor.lifecycle.slot_table import SlotTable
from sockd.supervisor.lifecycle.status import StatusReport
from sockd.supervisor.lifecycle.systemd_reporter import SystemdReporter
from sockd.supervisor.lifecycle.upgrade import MasterCommand, Upgrader
from sockd.supervisor.lifecycle.watchdog import Watchdog
from sockd.supervisor.lifecycle.watcher import ChangeWatcher, DevWatcher
from sockd.supervisor.lifecycle.worker_process import WorkerProcess
from sockd.supervisor.lifecycle.worker_state import Worker
from sockd.supervisor.observe.observer import Observer
from sockd.supervisor.recovery.relay import RecoveryRelay
from sockd.supervisor.routing import build_routing
from sockd.supervisor.system.handover import HandoverLink
from sockd.supervisor.system.listeners import Listeners
from sockd.supervisor.system.sd_notify import Notifier
from sockd.supervisor.system.title import TitleClaim

log = logging.getLogger("sockd.master")

#: How often the main loop looks at queues, restarts and heartbeats.
TICK = 0.2


class Arbiter:
    def __init__(
        self,
        options: ClusterOptions,
        load_options: OptionsLoader,
        listeners: Listeners,
        title: TitleClaim,
        command: MasterCommand,
        *,
        on_ready: ReadyCallback | None = None,
        predecessor: tuple[HandoverLink, int] | None = None,
    ) -> None:
        """``predecessor``: the link to the master this one replaces, and its pid."""
        self._options = options
        self._load_options = load_options
        self._listeners = listeners
        self._listening = listeners.describe()
        self._title = title
        self._command = command
        self._on_ready = on_ready
        self._predecessor = predecessor
        self._signals = SignalQueue()
        self._stop_timeout: float | None = None
        self._stop_reason: str | None = None
        self._fatal: str | None = None

    def _build(self) -> None:
        """The components (in the loop: the dispatcher and the workers need it)."""
        options = self._options
        cluster = options.cluster
        table = self._table = SlotTable[Worker](cluster.workers)
        self.dispatcher, self.acceptor = build_routing(
            self._listeners.sockets,
            cluster,
            slots=cluster.workers,
            queue_timeout=options.queue_timeout,
            queue_limit=options.queue_limit,
            sessions=lambda slot: self._keeper.sessions(slot),
        )
        live = self._live = LiveOptions(options, table, lambda n: self._keeper.scale_to(n))
        recovery = self._recovery = RecoveryRelay(lambda: table.live, lambda: live.current.settings)
        self._keeper = SlotKeeper(
            table,
            self._new_worker,
            self.dispatcher,
            graceful_timeout=self._graceful_timeout,
            on_booted=lambda: self._boot.booted(),
            on_fatal=self._on_fatal,
            frame_handlers=recovery.handlers(),
            on_exit=recovery.worker_gone,
        )
        replacer = Replacer(
            is_current=lambda worker: table.current.get(worker.slot) is worker,
            spawn_successor=lambda slot: self._keeper.spawn(slot, incoming=True),
            slot_exists=table.exists,
            exit_bound=lambda: HANDOVER_GRACE + self._graceful_timeout() + EXIT_MARGIN,
        )
        self._recycler = Recycler(
            lambda: table.current, lambda: RecycleLimits.of(self._live.current), replacer.replace
        )
        self._sampler = Sampler(
            lambda: table.live, self.dispatcher.handed_off_by_slot, self._recycler.check
        )
        self._watchdog = Watchdog(lambda: table.live, lambda: self._live.current.cluster.timeout)
        self._systemd = SystemdReporter(
            Notifier(), lambda: self._status.line(), self._watchdog.healthy, lambda: table.booted
        )
        self._reloader = Reloader(self._live, replacer.replace, self._load_options, self._systemd)
        self._status = StatusReport(
            self._title.instance.title,
            self._listening,
            table,
            self._sampler,
            self.dispatcher,
            lambda: self.acceptor.accepted,
            lambda: self._live.current,
            lambda: self._reloader.running,
        )
        watch = ChangeWatcher(options.worker.app.root) if options.watch else None
        self._dev = DevWatcher(watch, self._reloader.request) if watch else None
        handlers = ControlHandlers(
            self._status.full,
            self._reloader.request,
            self._request_stop,
            lambda: self._keeper.stopping,
            self._keeper.cluster.census,
        )
        control = ControlServer(self._title.instance.socket_path, handlers.handle)
        self._observer = Observer(
            self._title.instance.title, table, self.dispatcher, lambda: self.acceptor,
            lambda: self._keeper.stopping, self._reloader.results, lambda: self._live.current,
        )  # fmt: skip
        self._presence = Presence(
            self._listeners, self.acceptor, control, self._title, self._stop_for,
            self._observer.endpoints,
        )  # fmt: skip
        self._upgrader = Upgrader(self._presence, self._command)
        self._boot = BootAnnouncer(
            self._title.instance.title,
            self._listening,
            lambda: table.count,
            self._systemd.ready,
            self._on_fatal,
            self._on_ready,
            self._predecessor,
            self._presence,
        )

    async def run(self) -> int:
        """Serve until a stop signal; return the exit code."""
        self._build()
        self._signals.install()
        try:
            if self._predecessor is None:
                await self._presence.start_control()
            log.info(
                "master started (pid %d): %d worker(s), %s, on %s",
                os.getpid(),
                self._table.count,
                "sticky" if self._options.cluster.sticky else "not sticky",
                ", ".join(self._listening),
            )
            for slot in range(self._table.count):
                await self._keeper.spawn(slot)
            if self._predecessor is None:
                self.acceptor.start()  # connections wait in the slots' queues until ready
            quick = await self._main_loop()
            await self._stop(quick)
        finally:
            await self._presence.close()
        if self._fatal:
            raise StartupError(self._fatal)
        log.info("master stopped")
        return 0

    async def _main_loop(self) -> bool:
        """Run until asked to stop; True when the stop must be quick."""
        while self._fatal is None:
            signum = await self._signals.next(TICK)
            if signum == signal.SIGCHLD:
                self._keeper.reap(self._upgrader.child_exited)
            elif signum in STOPPING:
                reason = self._stop_reason or f"received {signal.Signals(signum).name}"
                log.info("%s: stopping", reason)
                return signum in QUICK
            elif signum is not None:
                self._on_control_signal(signum)
            self._tick()
        return False

    def _on_control_signal(self, signum: int) -> None:
        count = self._table.count
        if signum == signal.SIGHUP:
            log.info("received SIGHUP: reloading")
            self._reloader.request()
        elif signum == signal.SIGTTIN:
            log.info("received SIGTTIN: one worker more")
            self._keeper.scale_to(count + 1)
        elif signum == signal.SIGTTOU and count == 1:
            log.warning("received SIGTTOU: already down to one worker")
        elif signum == signal.SIGTTOU:
            log.info("received SIGTTOU: one worker fewer")
            self._keeper.scale_to(count - 1)
        elif signum == signal.SIGUSR1:
            reopen_logs(self._live.current, self._table.live)
        elif signum == signal.SIGUSR2:
            self._upgrader.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.dispatcher.expire()
        self._keeper.start_due(now)
        self._watchdog.check(now)
        self._systemd.tick(now)
        self._sampler.tick(now)
        self._recovery.tick(now)
        if self._dev is not None:
            self._dev.tick(now)

    async def _stop(self, quick: bool) -> None:
        self._keeper.stopping = True
        cluster = self._live.current.cluster
        if self._presence.replaced:
            await settle(
                lambda: self.acceptor.pending + self.dispatcher.queued(),
                self.dispatcher.expire,
                cluster.peek_timeout + self._live.current.queue_timeout,
                HANDOVER_GRACE,
            )
        else:
            self._systemd.stopping()
        self._table.cancel_restarts()
        for component in (self._reloader, self._recycler, self._upgrader):
            component.cancel()
        self.acceptor.close()
        self.dispatcher.close_all()
        timeout = 0.0 if quick else self._stop_timeout
        if timeout is None:
            timeout = self._graceful_timeout()
        await stop_workers(
            lambda: self._table.live,
            lambda: self._keeper.reap(self._upgrader.child_exited),
            self._signals.next,
            timeout,
            quick,
        )

    def _on_fatal(self, message: str) -> None:
        self._fatal = message
        log.error("%s; stopping", message)

    def _stop_for(self, reason: str) -> None:
        self._stop_reason = reason
        self._signals.put(signal.SIGTERM)

    def _request_stop(self, timeout: float | None) -> float:
        """``sockd stop``: stop gracefully; the drain timeout in force."""
        if timeout is not None:
            self._stop_timeout = timeout
        self._stop_for("stop asked for over the control socket")
        return self._stop_timeout if self._stop_timeout is not None else self._graceful_timeout()

    def _new_worker(self, slot: int, generation: int, on_frame: Any) -> Worker:
        worker = WorkerProcess(slot, self._live.current.worker, on_frame, generation)
        return self._observer.track(worker)

    def _graceful_timeout(self) -> float:
        return self._live.current.cluster.graceful_timeout
