"""Where a new Engine.IO session goes in ``--sticky-key sid`` mode: the least-loaded slot.

Workers report their session counts once a second; sessions placed since then
are not in those figures yet, so placements of the last ``WINDOW`` seconds
count too. Otherwise a burst of handshakes within one second would all go to
the slot that looked emptiest at its start.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence

#: Seconds a placement counts as load before the worker's own report includes it.
WINDOW = 2.0


class LeastLoaded:
    def __init__(self, reported: Callable[[int], int]) -> None:
        self._reported = reported
        self._recent: dict[int, deque[float]] = {}
        self._turn = itertools.count()

    def order(self, slots: Sequence[int]) -> list[int]:
        """``slots``, least loaded first (ties in turn, so equal slots share evenly)."""
        now = time.monotonic()
        turn = next(self._turn)
        count = len(slots)

        def load(index_slot: tuple[int, int]) -> tuple[int, int]:
            index, slot = index_slot
            recent = self._recent.get(slot)
            while recent and recent[0] <= now - WINDOW:
                recent.popleft()
            return self._reported(slot) + len(recent or ()), (index - turn) % count

        ranked = sorted(enumerate(slots), key=load)
        first = ranked[0][1]
        self._recent.setdefault(first, deque()).append(now)
        return [slot for _, slot in ranked]
