"""Bus messages on their way to Redis: never waited for, bounded, sent in order, in batches.

``put`` returns at once, so ``await sio.emit()`` (and the app's handler, and its ack) never
waits for Redis, stalled or gone. One sender task sends what is queued, up to a batch per
round trip: one ``PUBLISH`` or ``XADD`` at a time kept the order but made each message wait
for all the round trips before it (publishes queued for seconds under the bench's rooms
scenario), so the messages that queue up while one batch is on its way go out together as
the next one. A batch that fails stays at the head of the queue and is sent again after a
short backoff, with whatever queued behind it, so order holds and an outage loses nothing
that fits the bound. A batch that reached Redis although its reply did not is sent twice:
the readers drop the copy (sequences.py). Past the bound (a count and a size) new messages
are dropped and counted; the queue keeps the oldest, so what readers get is an unbroken
prefix of what was published, and the gap is at its end.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import NamedTuple

from sockd.worker.bus.backoff import retry_delay

#: Messages per round trip.
MAX_BATCH = 500
#: The size bound: a 1 MB broadcast is allowed, ten thousand of them are not.
MAX_BYTES = 64 * 1024 * 1024


class Outgoing(NamedTuple):
    """One bus message: its publisher's sequence number and its JSON."""

    number: int
    payload: str


class OutboundQueue:
    """Messages waiting for Redis.

    ``send`` sends one batch or raises; ``ready``, when given, is awaited before each batch
    (the pub/sub bus waits there until it has subscribed again after an outage).
    """

    def __init__(
        self,
        send: Callable[[list[Outgoing]], Awaitable[None]],
        limit: int,
        ready: Callable[[], Awaitable[object]] | None = None,
        max_bytes: int = MAX_BYTES,
        max_batch: int = MAX_BATCH,
        delay: Callable[[int], float] = retry_delay,
    ) -> None:
        self._send = send
        self._ready = ready
        self._limit = limit
        self._max_bytes = max_bytes
        self._max_batch = max_batch
        self._delay = delay
        self._items: deque[Outgoing] = deque()
        self._bytes = 0
        self._sender: asyncio.Task[None] | None = None
        #: Messages dropped because the queue was full, since the start.
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Outgoing) -> bool:
        """Queue ``item`` to be sent; False when the bound dropped it."""
        size = len(item.payload)
        if len(self._items) >= self._limit or self._bytes + size > self._max_bytes:
            self.dropped += 1
            return False
        self._items.append(item)
        self._bytes += size
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        return True

    async def _send_all(self) -> None:
        failures = 0
        while self._items:
            if self._ready is not None:
                await self._ready()
            batch = list(itertools.islice(self._items, self._max_batch))
            try:
                await self._send(batch)
            except Exception:  # the bus logs why; try again, in order, a moment later
                failures += 1
                await asyncio.sleep(self._delay(failures))
                continue
            failures = 0
            for item in batch:
                self._items.popleft()
                self._bytes -= len(item.payload)
