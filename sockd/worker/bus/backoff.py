"""How long the bus waits before it tries Redis again, and how it notices a read that spins.

Retries are quick and capped at a couple of seconds (python-socketio's Redis manager
doubles up to 60 s, so a worker could stay deaf for a minute after Redis was back), with
jitter so that the workers of a cluster do not all knock at the same instant.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

#: First delay, and the ceiling, in seconds.
FIRST_DELAY, MAX_DELAY = 0.1, 2.0


def retry_delay(attempt: int, draw: Callable[[], float] = random.random) -> float:
    """The delay before try number ``attempt`` (1, 2, ...): doubling from FIRST_DELAY up to
    MAX_DELAY, of which the second half is random."""
    ceiling = min(MAX_DELAY, FIRST_DELAY * 2.0 ** min(max(attempt - 1, 0), 16))
    return ceiling / 2 + draw() * ceiling / 2


class SpinningRead(Exception):
    """Reads keep returning nothing at once: the connection is broken in a way the client
    library does not report."""


class EmptyReads:
    """Counts reads that came back empty well before their timeout.

    A read that waits for a message returns empty only when its timeout expires (or on a
    rare control reply). Many empty returns in a row, each faster than a tenth of the
    timeout, mean the connection keeps failing without saying so (redis-py's ETIMEDOUT bug,
    lost_connection_parser.py): :meth:`empty` raises then, so the reader reconnects
    instead of spinning.
    """

    def __init__(
        self, timeout: float, limit: int = 100, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._quick = timeout / 10
        self._limit = limit
        self._clock = clock
        self._started = 0.0
        self._in_a_row = 0

    def reading(self) -> None:
        """A read starts now."""
        self._started = self._clock()

    def empty(self) -> None:
        """The read returned nothing."""
        if self._clock() - self._started >= self._quick:
            self._in_a_row = 0
            return
        self._in_a_row += 1
        if self._in_a_row >= self._limit:
            raise SpinningRead(f"{self._in_a_row} reads in a row returned nothing at once")

    def received(self) -> None:
        """The read returned a message."""
        self._in_a_row = 0
