"""Each worker numbers what it publishes; readers drop what they already had.

A publish that timed out may still have reached Redis (a stalled server answers late), so
the bus sends it again and the message can arrive twice. Every bus message carries its
publisher's id (one per worker process) and a sequence number counting up from 1, and a
publisher's messages arrive in the order they were published, so a reader keeps the highest
number seen per publisher: anything at or below it is a duplicate. A jump over numbers is
what this reader missed (pub/sub while it was resubscribing, a stream trimmed past it), and
is counted. A publisher not seen before starts a new count without a gap: the reader cannot
know what came before it arrived.
"""

from __future__ import annotations

from collections import OrderedDict

#: Publishers a reader remembers; the least recently heard from is forgotten first.
MAX_PUBLISHERS = 4096


class Sequences:
    """The numbering of one publisher and the bookkeeping of one reader."""

    def __init__(self, max_publishers: int = MAX_PUBLISHERS) -> None:
        self._published = 0
        self._last_seen: OrderedDict[str, int] = OrderedDict()
        self._max_publishers = max_publishers
        #: Messages dropped because they had arrived already.
        self.duplicates = 0
        #: Messages skipped over: published, never received here.
        self.missed = 0

    def next(self) -> int:
        """The number of the message being published."""
        self._published += 1
        return self._published

    def fresh(self, publisher: str, number: int) -> bool:
        """Whether message ``number`` of ``publisher`` is new here (and count what is not)."""
        last = self._last_seen.get(publisher)
        if last is not None:
            if number <= last:
                self.duplicates += 1
                return False
            self.missed += number - last - 1
            self._last_seen.move_to_end(publisher)
        elif len(self._last_seen) >= self._max_publishers:
            self._last_seen.popitem(last=False)
        self._last_seen[publisher] = number
        return True
