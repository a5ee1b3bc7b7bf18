"""asyncio's Queue and Event at a fraction of their memory.

Every open connection holds two queues (uvicorn's WebSocket receive queue and the
Engine.IO session's send queue) and an Event. asyncio builds each Queue from three
``collections.deque`` and an Event, and each Event from one more deque; an empty deque
is 760 bytes, so idle queues and events were ~6.5 KiB of every connection. Here the
waiter lists are plain lists (a handful of waiters at most) and the item deque exists
only while items are queued. The classes only change storage, and look their loop up
once (asyncio's ``_get_loop`` asks for the running loop at each wait, which calls getpid
on Python 3.11: once per received message; with the direct write's loop looked up once
per WebSocket too, 38.9 to 37.8 us of worker CPU per echo ack, bench, 3 interleaved rounds).
The asyncio logic is the standard library's, inherited.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import engineio


class _Waiters(list[Any]):
    """The waiter deque's operations asyncio uses, on a list (short: O(n) is fine)."""

    def popleft(self) -> Any:
        return self.pop(0)


#: Stands for the empty item deque: supports ``len`` and truth like one.
_NO_ITEMS: tuple[()] = ()


class LeanEvent(asyncio.Event):
    _loop: asyncio.AbstractEventLoop | None  # asyncio's, set at the first wait

    def __init__(self) -> None:
        super().__init__()
        self._waiters = _Waiters()  # type: ignore[assignment]

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop or super()._get_loop()  # type: ignore[misc]


class LeanQueue(asyncio.Queue[Any]):
    _loop: asyncio.AbstractEventLoop | None  # asyncio's, set at the first wait

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._getters = _Waiters()  # type: ignore[assignment]
        self._putters = _Waiters()  # type: ignore[assignment]
        self._finished = LeanEvent()
        self._finished.set()

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop or super()._get_loop()  # type: ignore[misc]

    def _init(self, maxsize: int) -> None:
        self._queue: collections.deque[Any] | tuple[()] = _NO_ITEMS

    def _put(self, item: Any) -> None:
        if self._queue is _NO_ITEMS:
            self._queue = collections.deque()
        self._queue.append(item)  # type: ignore[union-attr]

    def _get(self) -> Any:
        item = self._queue.popleft()  # type: ignore[union-attr]
        if not self._queue:
            self._queue = _NO_ITEMS
        return item


class LeanQueues(engineio.AsyncServer):
    """Every Engine.IO session's send queue is a :class:`LeanQueue`."""

    def create_queue(self, *args: Any, **kwargs: Any) -> LeanQueue:
        return LeanQueue(*args, **kwargs)
