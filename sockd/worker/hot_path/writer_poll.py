"""Wait for a session's next outgoing packets without a task per wake-up.

Every WebSocket session has a writer task that loops on ``AsyncSocket.poll``, which waits
with ``asyncio.wait_for(queue.get(), timeout)``. On Python 3.11 ``wait_for`` wraps the
``get`` in a new task each time, so every delivery to every client cost a task, a timer
and their garbage (``wait_for`` was a fifth of a worker's CPU under fan-out, py-spy).
Here a packet already queued is taken at once, and an empty queue is awaited under
``asyncio.timeout``, which only arms a timer. Behaviour is the library's: the same bound
(ping interval + ping timeout without traffic), ``QueueEmpty`` on timeout or cancellation,
``None`` ends. While it waits the session is ``parked``: :mod:`.direct_write` then writes
new packets itself, and those count as traffic.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio import exceptions
from engineio.async_socket import AsyncSocket


class TimerPoll(AsyncSocket):
    #: True while a poll waits on the empty queue: nothing taken from it is still unsent.
    parked: bool = False
    #: Set when a packet bypassed the queue during the current wait of a parked poll.
    written_while_parked: bool = False

    async def poll(self) -> list[Any]:
        """Every packet queued for the client, waiting for the first one if need be."""
        queue = self.queue
        try:
            if queue.empty():
                first = await self._park(queue)
            else:
                first = queue.get_nowait()
        except (TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
        queue.task_done()
        if first is None:
            return []
        packets = [first]
        while not queue.empty():
            pkt = queue.get_nowait()
            queue.task_done()
            if pkt is None:
                queue.put_nowait(None)  # the writer's stop signal, for its next poll
                break
            packets.append(pkt)
        return packets

    async def _park(self, queue: Any) -> Any:
        """The next queued packet, waiting at most the library's bound without traffic.

        Packets written directly while parked (:mod:`.direct_write`) count as traffic:
        the pings among them are what the bound waits for.
        """
        bound = self.server.ping_interval + self.server.ping_timeout
        self.parked = True
        try:
            while True:
                self.written_while_parked = False
                try:
                    async with asyncio.timeout(bound):
                        return await queue.get()
                except TimeoutError:
                    if not self.written_while_parked:
                        raise
        finally:
            self.parked = False
