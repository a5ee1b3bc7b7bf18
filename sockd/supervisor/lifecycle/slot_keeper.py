"""Keeping every slot's worker alive: spawn, route once ready, restart after a crash.

As in gunicorn's arbiter, a worker that dies is restarted in its own slot with
exponential backoff, and a worker that cannot even start (import error, bad config)
stops the master with its own error rather than looping forever: at boot, or after
5 failed starts in a row. A slot added while serving (SIGTTIN, ``reload -w N+1``) whose
worker never starts is removed again instead, so the slots that serve go on serving.
The decisions live in the slot table; this module acts on them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol

from sockd.supervisor.lifecycle.cluster_relay import ClusterRelay
from sockd.supervisor.lifecycle.slot_table import Role, SlotTable, Verdict
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState, worker_event
from sockd.wire.frames import Kind, encode_frame

log = logging.getLogger("sockd.master")

MAX_WORKERS = 1024
#: Once a successor has taken over its slot, the old worker serves on this long before it
#: drains, so connections handed to it just before the switch finish their handshake
#: instead of meeting a draining worker.
HANDOVER_GRACE = 1.0

FrameHandler = Callable[[Worker, Kind, bytes], None]
#: Builds (does not start) the worker of a slot: slot, generation, where its frames go.
WorkerFactory = Callable[[int, int, FrameHandler], Worker]


class Routes(Protocol):
    """The dispatcher's side of a slot: where its connections go."""

    def slot_ready(self, slot: int, channel: socket.socket) -> None: ...
    def slot_unavailable(self, slot: int) -> None: ...
    def remove_slot(self, slot: int) -> None: ...


class SlotKeeper:
    def __init__(
        self,
        table: SlotTable[Worker],
        new_worker: WorkerFactory,
        routes: Routes,
        *,
        graceful_timeout: Callable[[], float],
        on_booted: Callable[[], None],
        on_fatal: Callable[[str], None],
        handover_grace: float = HANDOVER_GRACE,
        frame_handlers: Mapping[Kind, FrameHandler] | None = None,
        on_exit: Callable[[Worker], None] | None = None,
    ) -> None:
        """``frame_handlers``: what to call for frame kinds other components own;
        ``on_exit``: told of every worker that exited, before anything else reacts."""
        self.table = table
        self._new_worker = new_worker
        self._routes = routes
        self._graceful_timeout = graceful_timeout
        self._on_booted = on_booted
        self._on_fatal = on_fatal
        self._handover_grace = handover_grace
        self._frame_handlers = dict(frame_handlers or {})
        self._on_exit = on_exit
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Set once the master stops: nothing is started or restarted any more.
        self.stopping = False
        #: Routes cluster requests (``sockd.cluster``) between the workers.
        self.cluster = ClusterRelay(lambda: self.table.live)

    # -- starting ------------------------------------------------------------

    async def spawn(self, slot: int, incoming: bool = False) -> Worker | None:
        """Start a worker for ``slot``: its worker, or (``incoming``) its successor."""
        table = self.table
        if self.stopping or not table.exists(slot):
            return None
        worker = self._new_worker(slot, table.generation, self._on_frame)
        try:
            await worker.spawn()
        except OSError as exc:
            # Out of processes or descriptors: try again later, like a crash.
            log.error("cannot start worker %d: %s", slot, exc)
            if not incoming:
                table.record_failure(slot)
                self._schedule_restart(slot)
            return None
        log.info(
            "worker %d started (pid %d)", slot, worker.pid, extra=worker_event(worker, "started")
        )
        if self.stopping or not table.exists(slot):
            table.add(worker, Role.NONE)
            worker.drain(self._graceful_timeout())  # stopped or removed meanwhile
            return None
        table.add(worker, Role.INCOMING if incoming else Role.CURRENT)
        return worker

    def start_due(self, now: float) -> None:
        """Start the workers whose restart delay is over."""
        for slot in self.table.due_restarts(now):
            self._start_task(self.spawn(slot))

    def scale_to(self, count: int) -> None:
        """Add or remove slots at the top; rendezvous hashing moves only their keys."""
        table = self.table
        count = max(1, min(count, MAX_WORKERS))
        while table.count < count:
            slot = table.add_slot()
            log.info("slot %d added: %d worker(s)", slot, table.count)
            self._start_task(self.spawn(slot))
        while table.count > count:
            slot, workers = table.remove_top_slot()
            self._routes.remove_slot(slot)
            log.info("slot %d removed: %d worker(s)", slot, table.count)
            for worker in workers:
                if worker.state is not WorkerState.EXITED:
                    worker.drain(self._graceful_timeout())

    def sessions(self, slot: int) -> int:
        """Engine.IO sessions the slot's worker last reported (``--sticky-key sid``)."""
        worker = self.table.current.get(slot)
        return int(worker.stats.get("sessions", 0)) if worker is not None else 0

    # -- what workers say ------------------------------------------------------

    def _on_frame(self, worker: Worker, kind: Kind, payload: bytes) -> None:
        if kind is Kind.READY:
            self._on_ready(worker)
        elif kind is Kind.BUS:
            self._relay(worker, payload)
        elif kind in (Kind.CLUSTER_REQUEST, Kind.CLUSTER_ANSWER):
            self.cluster.on_frame(worker, kind, payload)
        elif kind in self._frame_handlers:
            self._frame_handlers[kind](worker, kind, payload)

    def _on_ready(self, worker: Worker) -> None:
        if worker.state is not WorkerState.STARTING or worker.handoff is None:
            return
        table, slot = self.table, worker.slot
        worker.mark_ready()
        table.served(worker)
        log.info("worker %d ready (pid %d)", slot, worker.pid, extra=worker_event(worker, "ready"))
        role = table.role(worker)
        if role is Role.INCOMING:
            previous = table.promote(worker)
            self._routes.slot_ready(slot, worker.handoff)
            if previous is not None and previous.state is WorkerState.READY:
                log.info(
                    "worker %d (pid %d) took over from pid %d, which drains in %.0fs",
                    slot,
                    worker.pid,
                    previous.pid,
                    self._handover_grace,
                    extra=worker_event(worker, "took_over"),
                )
                asyncio.get_running_loop().call_later(
                    self._handover_grace, previous.drain, self._graceful_timeout()
                )
        elif role is Role.CURRENT:
            self._routes.slot_ready(slot, worker.handoff)
        if table.boot_if_ready():
            self._on_booted()

    def _relay(self, sender: Worker, payload: bytes) -> None:
        """Forward one bus message to every other worker that has clients."""
        frame = encode_frame(Kind.BUS, payload)
        for worker in self.table.live:
            if worker is not sender and worker.state in (WorkerState.READY, WorkerState.DRAINING):
                worker.send(frame)

    # -- exits -----------------------------------------------------------------

    def reap(self, other: Callable[[int, int], object]) -> None:
        """Collect every exited child; ``other(pid, status)`` hears of non-workers."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            worker = next((w for w in self.table.live if w.pid == pid), None)
            if worker is None:
                other(pid, status)
            else:
                self.on_exit(worker, status)

    def on_exit(self, worker: Worker, status: int) -> None:
        was = worker.state
        worker.reaped(status)
        if self._on_exit is not None:
            self._on_exit(worker)
        role = self.table.remove(worker)
        self.cluster.worker_gone(worker)
        slot = worker.slot
        if role is Role.INCOMING:
            self._on_successor_exit(worker)
            return
        if role is Role.CURRENT and was is WorkerState.READY:
            self._routes.slot_unavailable(slot)
        if self.stopping or was is WorkerState.DRAINING or role is Role.NONE:
            self._log_exit(worker, logging.INFO, "exited", "exited")
        elif was is WorkerState.STARTING:
            self._on_startup_failure(worker)
        else:
            self._log_exit(worker, logging.ERROR, "exited unexpectedly", "crashed")
            if slot not in self.table.incoming:  # else its successor takes the slot over
                self.table.record_failure(slot, time.monotonic() - worker.ready_at)
                self._schedule_restart(slot)

    def _on_successor_exit(self, worker: Worker) -> None:
        """A successor died before taking over: whoever replaces workers hears of it."""
        slot = worker.slot
        log.error(
            "worker %d (pid %d) failed to start: %s",
            slot,
            worker.pid,
            worker.failure or worker.describe_exit(),
            extra=worker_event(worker, "start_failed"),
        )
        current = self.table.current.get(slot)
        if not self.stopping and current is not None and current.state is WorkerState.EXITED:
            self._schedule_restart(slot)  # the worker it was to replace died meanwhile

    def _on_startup_failure(self, worker: Worker) -> None:
        slot = worker.slot
        reason = worker.failure or worker.describe_exit()
        verdict = self.table.start_failed(slot)
        if verdict is Verdict.FATAL:
            self._on_fatal(f"worker {slot} failed to start: {reason}")
        elif verdict is Verdict.GIVE_UP_SLOT:
            log.error(
                "worker %d (pid %d) failed to start %d times in a row: %s; removing slot %d, "
                "which never served",
                slot,
                worker.pid,
                self.table.failures.get(slot, 0),
                reason,
                slot,
                extra=worker_event(worker, "slot_given_up"),
            )
            self.scale_to(slot)
        else:
            log.error(
                "worker %d (pid %d) failed to start (%d in a row): %s",
                slot,
                worker.pid,
                self.table.failures.get(slot, 0),
                reason,
                extra=worker_event(worker, "start_failed"),
            )
            self._schedule_restart(slot)

    def _log_exit(self, worker: Worker, level: int, what: str, event: str) -> None:
        log.log(
            level,
            "worker %d (pid %d) %s: %s",
            worker.slot,
            worker.pid,
            what,
            worker.describe_exit(),
            extra=worker_event(worker, event),
        )

    def _schedule_restart(self, slot: int) -> None:
        delay = self.table.schedule_restart(slot, time.monotonic())
        log.info(
            "worker %d restarts in %.1fs", slot, delay, extra={"slot": slot, "event": "restart"}
        )

    def _start_task(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
