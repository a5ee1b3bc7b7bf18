"""Replacing workers without refusing a connection: the rolling reload, and its one step.

A step starts a new worker for a slot while the old one keeps serving; once the new one
is ready the slot's connections go to it (the arbiter switches the route), the old one
drains, and the next step waits for it to exit. Steps run one at a time, whoever asks
(a reload, the recycler), so capacity never drops by more than one worker. A new worker
that fails to start ends the roll and leaves the old workers serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sockd.config.command_line import CommandLine
from sockd.config.options import ClusterOptions
from sockd.config.reloading import merge_reloaded
from sockd.errors import UserError
from sockd.supervisor.lifecycle.worker_process import WorkerProcess, WorkerState

if TYPE_CHECKING:
    from sockd.supervisor.lifecycle.arbiter import Arbiter

log = logging.getLogger("sockd.master")

#: Once a successor has taken over its slot, the old worker serves on this long before it
#: drains, so connections handed to it just before the switch finish their handshake
#: instead of meeting a draining worker.
HANDOVER_GRACE = 1.0
#: Beyond the drain itself, how long to wait for a drained worker to be gone.
EXIT_MARGIN = 10.0

#: Builds fresh options from the start's command line and a worker count given at reload.
OptionsLoader = Callable[[CommandLine, int | None], ClusterOptions]


class Replacer:
    """Replaces one worker at a time: the new one is serving before the old one drains."""

    def __init__(self, arbiter: Arbiter) -> None:
        self._arbiter = arbiter
        self._lock = asyncio.Lock()

    async def replace(self, worker: WorkerProcess, reason: str) -> str | None:
        """Replace ``worker``; None once done, else why its successor did not start."""
        async with self._lock:
            arbiter = self._arbiter
            slot = worker.slot
            if arbiter.workers.get(slot) is not worker or worker.state is not WorkerState.READY:
                return None  # replaced, removed or restarting meanwhile: nothing to do
            log.info(
                "worker %d (pid %d) is being replaced: %s",
                slot,
                worker.pid,
                reason,
                extra={"slot": slot, "worker_pid": worker.pid, "event": "replacing"},
            )
            # Shielded: a stop cancelling us must not lose a process half spawned.
            successor = await asyncio.shield(arbiter.spawn(slot, incoming=True))
            if successor is None:
                return "no process could be started"
            if not await successor.outcome:
                if slot >= arbiter.slot_count:
                    return None  # the slot was removed while its successor started
                return successor.failure or successor.describe_exit()
            bound = HANDOVER_GRACE + arbiter.options.cluster.graceful_timeout + EXIT_MARGIN
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(worker.exited), bound)
            return None


class Reloader:
    """Runs one rolling reload at a time; asking during a roll queues one more after it.

    Each roll reads the config files anew under the start flags, so new code (workers
    are fresh interpreters) and new config are both picked up.
    """

    def __init__(self, arbiter: Arbiter, replacer: Replacer, load_options: OptionsLoader) -> None:
        self._arbiter = arbiter
        self._replacer = replacer
        self._load_options = load_options
        #: Who waits for the next roll, and who waits for the one running now.
        self._waiters: list[asyncio.Future[dict[str, Any]]] = []
        self._rolling_for: list[asyncio.Future[dict[str, Any]]] = []
        self._workers: int | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def request(self, workers: int | None = None) -> asyncio.Future[dict[str, Any]]:
        """Ask for a roll (``workers``: a new worker count); resolves with its outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiters.append(future)
        if workers is not None:
            self._workers = workers
        if not self.running:
            self._task = loop.create_task(self._run())
        return future

    def cancel(self) -> None:
        """The master is stopping: end the roll and tell whoever waits for it."""
        if self._task is not None:
            self._task.cancel()
        self._answer(self._rolling_for + self._waiters, {"ok": False, "error": "sockd is stopping"})
        self._waiters = []

    async def _run(self) -> None:
        while self._waiters:
            self._rolling_for, self._waiters = self._waiters, []
            workers, self._workers = self._workers, None
            self._arbiter.notifier.reloading()
            outcome = await self._roll(workers)
            # Rolled or aborted, the service runs and serves again.
            self._arbiter.notifier.ready(self._arbiter.status_line())
            self._answer(self._rolling_for, outcome)
            self._rolling_for = []

    @staticmethod
    def _answer(waiters: list[asyncio.Future[dict[str, Any]]], outcome: dict[str, Any]) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(outcome)

    async def _roll(self, workers: int | None) -> dict[str, Any]:
        arbiter = self._arbiter
        try:
            loaded = self._load_options(arbiter.options.flags, workers)
        except UserError as exc:
            log.error("reload aborted: %s; the running workers keep serving", exc)
            return {"ok": False, "error": f"reload aborted: {exc}"}
        options, ignored = merge_reloaded(arbiter.options, loaded)
        if ignored:
            log.warning("reload: %s changed, which takes a restart", ", ".join(ignored))
        previous = arbiter.options
        generation = arbiter.apply_options(options)
        log.info("reload %d started: %d worker(s)", generation, arbiter.slot_count)
        for slot in sorted(arbiter.workers):
            worker = arbiter.workers.get(slot)
            if worker is None or worker.generation >= generation:
                continue  # removed, or already started with the new code
            failure = await self._replacer.replace(worker, f"reload {generation}")
            if failure:
                # Restarts go on with what the old workers run (the count stays).
                arbiter.options = previous.with_cluster(workers=arbiter.slot_count)
                message = (
                    f"reload {generation} aborted: the new worker {slot} failed to start: "
                    f"{failure}; the running workers keep serving"
                )
                log.error("%s", message)
                return {"ok": False, "error": message}
        log.info("reload %d finished: %d worker(s)", generation, arbiter.slot_count)
        return {"ok": True, "generation": generation, "workers": arbiter.slot_count}
