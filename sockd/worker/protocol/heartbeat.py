"""A session whose client stops answering pings is gone pingInterval + pingTimeout later.

Spec: the server pings every ``pingInterval``; without a pong within ``pingTimeout`` the
session is closed, and later requests with its sid get HTTP 400. python-engineio
(4.11-4.15) notices a missing pong only when it next sends a packet or when its monitor
task (which visits one session every ``pingTimeout / sessions`` seconds) comes by, so a poll
arriving after the deadline is still answered 200 with the next ping. Here each ping cycle,
started when the session starts and at every pong, sets a deadline, and a timer ends the
session on time. A poll that reaches the session after its deadline, before the timer ran
(a busy loop can read the request in the same turn the deadline passes), ends the session
itself and gets 400. The library's own check, run before each send and by its monitor, is
answered against the same deadline.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from engineio import exceptions

from sockd.worker.compat.sessions import StartedSession
from sockd.worker.protocol.closing import end_session

#: Sessions being ended by their deadline timer (tasks need a reference until done).
_ending: set[asyncio.Task[None]] = set()


class PongDeadline(StartedSession):
    """Ends the session when a ping cycle runs past ping interval + ping timeout."""

    _pong_deadline: float = math.inf
    _deadline_timer: asyncio.TimerHandle | None = None

    def session_started(self) -> None:
        super().session_started()
        self._arm_deadline()

    def schedule_ping(self) -> None:
        # A pong (the library starts a new cycle only after a completed one, since 4.13;
        # before, ``last_ping`` is also set while a ping awaits its pong).
        if self.last_ping:
            self._arm_deadline()
        super().schedule_ping()

    def _arm_deadline(self) -> None:
        loop = asyncio.get_running_loop()
        self._pong_deadline = loop.time() + self.server.ping_interval + self.server.ping_timeout
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
        self._deadline_timer = loop.call_at(self._pong_deadline, self._deadline_passed)

    def _deadline_passed(self) -> None:
        if not self.closed:
            task = asyncio.ensure_future(self._end())
            _ending.add(task)
            task.add_done_callback(_ending.discard)

    async def _end(self) -> None:
        await end_session(self.server, self.sid, self.server.reason.PING_TIMEOUT)

    async def handle_get_request(self, environ: dict[str, Any]) -> Any:
        if not self.closed and asyncio.get_running_loop().time() >= self._pong_deadline:
            await self._end()
            raise exceptions.EngineIOError("ping timeout")  # the library answers 400
        return await super().handle_get_request(environ)

    def alive_at(self, now: float) -> bool:
        """Whether :meth:`check_ping_timeout` at loop time ``now`` passes without awaiting."""
        return not self.closed and now < self._pong_deadline

    async def check_ping_timeout(self) -> bool:
        """The library's ping check, against the deadline."""
        if self.closed:
            raise exceptions.SocketIsClosedError()
        if asyncio.get_running_loop().time() < self._pong_deadline:
            return True
        await self._end()
        return False
