"""The master's signals, as gunicorn's arbiter takes them: a handler only queues the signal,
and the main loop acts on it in its own turn (never inside a handler, whatever it
interrupted).
"""

from __future__ import annotations

import asyncio
import signal

#: A graceful stop (a second INT, or QUIT, during the drain cuts it short).
GRACEFUL = (signal.SIGTERM, signal.SIGINT)
#: A quick stop.
QUICK = (signal.SIGQUIT,)
STOPPING = (*GRACEFUL, *QUICK)
#: Reload, scale, reopen logs, upgrade.
CONTROL = (signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGUSR1, signal.SIGUSR2)


class SignalQueue:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[int] = asyncio.Queue()

    def install(self) -> None:
        """Queue every signal the master handles, SIGCHLD included (on the running loop)."""
        loop = asyncio.get_running_loop()
        for signum in (*STOPPING, *CONTROL):
            loop.add_signal_handler(signum, self._queue.put_nowait, signum)
        # uvloop keeps add_signal_handler(SIGCHLD) for its own subprocesses, which the
        # master does not use; a plain handler wakes the loop instead.
        signal.signal(
            signal.SIGCHLD,
            lambda signum, frame: loop.call_soon_threadsafe(self._queue.put_nowait, signum),
        )

    def put(self, signum: int) -> None:
        """Act as if ``signum`` had arrived (a stop asked for over the control socket)."""
        self._queue.put_nowait(signum)

    async def next(self, timeout: float) -> int | None:
        """The next signal, or None after ``timeout`` seconds without one."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
