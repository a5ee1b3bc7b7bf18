"""The rolling reload: new code and new config, one slot at a time, nothing refused.

Each roll reads the config files anew under the start flags, then replaces the workers
slot by slot (``replacer.py``: the new one serves before the old one drains). A new
worker that fails to start ends the roll: the options in force before it are applied
again and the old workers keep serving. Whatever happens, including a bug, everyone
waiting for the roll gets an answer and systemd hears that the service is ready again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sockd.config.command_line import CommandLine
from sockd.config.options import ClusterOptions
from sockd.config.reloading import merge_reloaded
from sockd.errors import UserError
from sockd.supervisor.lifecycle.replacer import Replace
from sockd.supervisor.lifecycle.worker_state import Worker

log = logging.getLogger("sockd.master")

#: Builds fresh options from the start's command line and a worker count given at reload.
OptionsLoader = Callable[[CommandLine, int | None], ClusterOptions]


class ReloadTarget(Protocol):
    """What a reload changes: the options the master serves with, and its workers."""

    def options(self) -> ClusterOptions: ...
    def switch_to(self, options: ClusterOptions) -> int:
        """Serve with ``options`` from now on; the new generation's number."""
        ...

    def restore(self, options: ClusterOptions, slot_count: int) -> None:
        """Serve with ``options`` and ``slot_count`` slots again (an aborted roll)."""
        ...

    def serving(self) -> Mapping[int, Worker]: ...
    def slot_count(self) -> int: ...


class ReloadNotices(Protocol):
    """Who hears that a roll starts and ends (systemd's RELOADING=1 and READY=1)."""

    def reloading(self) -> None: ...
    def reloaded(self) -> None: ...


Outcome = dict[str, Any]


class Reloader:
    """Runs one rolling reload at a time; asking during a roll queues one more after it."""

    def __init__(
        self,
        target: ReloadTarget,
        replace: Replace,
        load_options: OptionsLoader,
        notices: ReloadNotices,
    ) -> None:
        self._target = target
        self._replace = replace
        self._load_options = load_options
        self._notices = notices
        #: Who waits for the next roll, and who waits for the one running now.
        self._waiters: list[asyncio.Future[Outcome]] = []
        self._rolling_for: list[asyncio.Future[Outcome]] = []
        self._workers: int | None = None
        self._task: asyncio.Task[None] | None = None
        #: Rolls finished so far by result: ok, aborted (a worker failed to start, bad
        #: config), failed (a bug); for the metrics.
        self.results: dict[str, int] = {}

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def request(self, workers: int | None = None) -> asyncio.Future[Outcome]:
        """Ask for a roll (``workers``: a new worker count); resolves with its outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
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
            self._notices.reloading()
            try:
                outcome = await self._roll(workers)
                result = "ok" if outcome["ok"] else "aborted"
            except Exception as exc:  # a bug must not leave a waiter, or systemd, hanging
                log.exception("reload failed; the running workers keep serving")
                outcome = {"ok": False, "error": f"reload failed: {exc!r}"}
                result = "failed"
            finally:
                # Rolled, aborted or failed, the service runs and serves again.
                self._notices.reloaded()
            self.results[result] = self.results.get(result, 0) + 1
            self._answer(self._rolling_for, outcome)
            self._rolling_for = []

    @staticmethod
    def _answer(waiters: list[asyncio.Future[Outcome]], outcome: Outcome) -> None:
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(outcome)

    async def _roll(self, workers: int | None) -> Outcome:
        target = self._target
        previous, previous_count = target.options(), target.slot_count()
        try:
            loaded = self._load_options(previous.flags, workers)
        except UserError as exc:
            log.error("reload aborted: %s; the running workers keep serving", exc)
            return {"ok": False, "error": f"reload aborted: {exc}"}
        options, ignored = merge_reloaded(previous, loaded)
        if ignored:
            log.warning("reload: %s changed, which takes a restart", ", ".join(ignored))
        generation = target.switch_to(options)
        log.info("reload %d started: %d worker(s)", generation, target.slot_count())
        try:
            failure = await self._replace_older(generation)
        except Exception:
            target.restore(previous, previous_count)
            raise
        if failure is not None:
            target.restore(previous, previous_count)
            message = (
                f"reload {generation} aborted: the new worker {failure}; "
                "the running workers keep serving"
            )
            log.error("%s", message)
            return {"ok": False, "error": message}
        log.info("reload %d finished: %d worker(s)", generation, target.slot_count())
        return {"ok": True, "generation": generation, "workers": target.slot_count()}

    async def _replace_older(self, generation: int) -> str | None:
        """Replace every worker older than ``generation``; None, or which one failed and why."""
        for slot in sorted(self._target.serving()):
            worker = self._target.serving().get(slot)
            if worker is None or worker.generation >= generation:
                continue  # removed, or already started with the new code
            failure = await self._replace(worker, f"reload {generation}")
            if failure:
                return f"{slot} failed to start: {failure}"
        return None
