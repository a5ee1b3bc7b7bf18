"""Replacing one worker without refusing a connection: the step of a reload or a recycle.

A step starts a new worker for a slot while the old one keeps serving; once the new one
is ready the slot's connections go to it (the slot keeper switches the route), the old
one drains, and the step ends when it exited. Steps run one at a time, whoever asks (a
reload, the recycler), so capacity never drops by more than one worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState, worker_event

log = logging.getLogger("sockd.master")

#: Beyond the drain itself, how long to wait for a replaced worker to be gone.
EXIT_MARGIN = 10.0
#: Replaces a worker: None once done, else why its successor did not start.
Replace = Callable[[Worker, str], Awaitable[str | None]]


class Replacer:
    """Replaces one worker at a time: the new one is serving before the old one drains."""

    def __init__(
        self,
        is_current: Callable[[Worker], bool],
        spawn_successor: Callable[[int], Awaitable[Worker | None]],
        slot_exists: Callable[[int], bool],
        exit_bound: Callable[[], float],
    ) -> None:
        """``exit_bound``: how long the old worker may take to be gone once replaced."""
        self._is_current = is_current
        self._spawn_successor = spawn_successor
        self._slot_exists = slot_exists
        self._exit_bound = exit_bound
        self._lock = asyncio.Lock()

    async def replace(self, worker: Worker, reason: str) -> str | None:
        """Replace ``worker``; None once done, else why its successor did not start."""
        async with self._lock:
            slot = worker.slot
            if not self._is_current(worker) or worker.state is not WorkerState.READY:
                return None  # replaced, removed or restarting meanwhile: nothing to do
            log.info(
                "worker %d (pid %d) is being replaced: %s",
                slot,
                worker.pid,
                reason,
                extra=worker_event(worker, "replacing"),
            )
            # Shielded: a stop cancelling us must not lose a process half spawned.
            successor = await asyncio.shield(self._spawn_successor(slot))
            if successor is None:
                return "no process could be started"
            if not await successor.outcome:
                if not self._slot_exists(slot):
                    return None  # the slot was removed while its successor started
                return successor.failure or successor.describe_exit()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(worker.exited), self._exit_bound())
            return None
