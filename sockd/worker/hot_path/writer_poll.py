"""Wait for a session's next outgoing packets without a task per wake-up.

Every WebSocket session has a writer task that loops on ``AsyncSocket.poll``, which waits
with ``asyncio.wait_for(queue.get(), timeout)``. On Python 3.11 ``wait_for`` wraps the
``get`` in a new task each time, so every delivery to every client cost a task, a timer
and their garbage (``wait_for`` was a fifth of a worker's CPU under fan-out, py-spy).
Here a packet already queued is taken at once, and an empty queue is awaited under
``asyncio.timeout``, which only arms a timer. Behaviour is the library's: the same bound
(ping interval + ping timeout), ``QueueEmpty`` on timeout or cancellation, ``None`` ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio import exceptions
from engineio.async_socket import AsyncSocket


class TimerPoll(AsyncSocket):
    async def poll(self) -> list[Any]:
        """Every packet queued for the client, waiting for the first one if need be."""
        queue = self.queue
        try:
            if queue.empty():
                async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                    first = await queue.get()
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
