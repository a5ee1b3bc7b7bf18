"""How close the worker is to its descriptor limit, and the reserve it keeps below it.

At RLIMIT_NOFILE the kernel cannot give a received hand-off a descriptor: it drops the
connection (``MSG_CTRUNC``), and the app cannot open a file or a socket either. So the
worker stops taking connections at a mark below the limit, keeping the rest as a reserve
(for the app, and for the connections already on their way, which it hands back), and
takes them again once it is a further half reserve below the mark.

Counting the open descriptors means reading ``/proc/self/fd``, whose cost grows with the
count, so it is not done per connection: each received descriptor counts one more, and
the received descriptor's number is a floor (the kernel gives the lowest free one, so
every number below it is in use). Only when that estimate reaches the mark is the real
count read, at most as often as keeps the reading under 2% of the time.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable

#: The reserve: this share of the limit, within bounds.
RESERVE_SHARE, RESERVE_MIN, RESERVE_MAX = 8, 16, 1024
#: A reading of the count is repeated at the earliest after this many times its duration.
RECOUNT_SPACING = 50


def soft_limit() -> int:
    """RLIMIT_NOFILE as it is now (``prlimit`` can change it under a running process)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def open_descriptors() -> int:
    """The descriptors open in this process (not counting the one reading them)."""
    return len(os.listdir("/proc/self/fd")) - 1


def reserve_for(limit: int) -> int:
    return max(RESERVE_MIN, min(RESERVE_MAX, limit // RESERVE_SHARE))


class DescriptorReserve:
    def __init__(
        self,
        count: Callable[[], int] = open_descriptors,
        limit: Callable[[], int] = soft_limit,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._count = count
        self._limit = limit
        self._clock = clock
        #: At least the descriptors open: the last reading plus those received since.
        self._estimate = 0
        self._recount_at = 0.0
        #: Whether the worker is at its mark and hands new connections back.
        self.full = False
        self.limit = limit()
        self._recount()

    @property
    def mark(self) -> int:
        return self.limit - reserve_for(self.limit)

    def take(self, fd: int) -> bool:
        """Descriptor ``fd`` just arrived: whether to keep it (False: at the mark, give it
        back; the caller closes it, so it is not counted)."""
        if self.full:
            return False
        self.limit = self._limit()
        floor = fd + 1  # every number below the one the kernel gave out is in use
        self._estimate = max(self._estimate + 1, floor)
        if self._estimate >= self.mark and self._clock() >= self._recount_at:
            self._recount()
            self._estimate = max(self._estimate, floor)
        if self._estimate >= self.mark:
            self.full = True
            self._estimate -= 1
            return False
        return True

    def check(self) -> bool:
        """Count again (while full): True once the worker is back below its low mark."""
        self.limit = self._limit()
        self._recount()
        if self.full and self._estimate < self.mark - reserve_for(self.limit) // 2:
            self.full = False
            return True
        return False

    def _recount(self) -> None:
        started = self._clock()
        self._estimate = self._count()
        finished = self._clock()
        self._recount_at = finished + (finished - started) * RECOUNT_SPACING
