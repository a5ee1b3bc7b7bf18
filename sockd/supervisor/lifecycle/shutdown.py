"""The end of a master: every worker drained (or killed) and reaped, within bounds.

A graceful stop asks each worker to drain within the timeout and kills what is left
after it; a quick stop kills at once. A second SIGINT, or SIGQUIT, during the wait cuts
it short, as in gunicorn. A master that handed over to a new one first lets the
connections it accepted reach a worker and start (:func:`settle`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from sockd.supervisor.lifecycle.watchdog import kill
from sockd.supervisor.lifecycle.worker_state import Worker

log = logging.getLogger("sockd.master")

#: Wait for killed workers to be reaped at the very end.
REAP_TIMEOUT = 5.0
#: How often the waits look again.
POLL = 0.2
#: Signals that cut a graceful stop short.
CUT_SHORT = (signal.SIGINT, signal.SIGQUIT)

#: The next signal the master received within the given seconds, or None.
NextSignal = Callable[[float], Awaitable[int | None]]


async def stop_workers(
    workers: Callable[[], list[Worker]],
    reap: Callable[[], None],
    next_signal: NextSignal,
    timeout: float,
    quick: bool,
) -> None:
    """Drain every worker (kill them if ``quick``), kill what is left after ``timeout``."""
    for worker in list(workers()):
        if quick:
            worker.signal(signal.SIGKILL)
        else:
            worker.drain(timeout)
    if not await _wait_for_exit(workers, reap, next_signal, timeout):
        for worker in workers():
            kill(worker, "still running", "killed", logging.WARNING)
        await _wait_for_exit(workers, reap, next_signal, REAP_TIMEOUT)


async def _wait_for_exit(
    workers: Callable[[], list[Worker]],
    reap: Callable[[], None],
    next_signal: NextSignal,
    timeout: float,
) -> bool:
    """Reap until every worker exited (True) or ``timeout`` passed or was cut short (False)."""
    deadline = time.monotonic() + timeout
    while workers():
        reap()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        signum = await next_signal(min(POLL, remaining))
        if signum in CUT_SHORT:
            log.info("received %s while draining: stopping now", signal.Signals(signum).name)
            return False
    return True


async def settle(
    waiting: Callable[[], int],
    expire: Callable[[], None],
    bound: float,
    grace: float,
    poll: float = POLL,
) -> None:
    """Wait (up to ``bound``) until no accepted connection waits for a worker, then ``grace``
    more, so the last ones handed over finish their handshake before the workers drain."""
    deadline = time.monotonic() + bound
    while waiting() and time.monotonic() < deadline:
        expire()
        await asyncio.sleep(poll)
    await asyncio.sleep(grace)
