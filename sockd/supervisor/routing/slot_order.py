"""The slots a connection tries, best first, from its sticky key.

Sticky: the key's rendezvous order (``hashing.py``), the slot a session id names first
(``--sticky-key sid``), or least loaded first for a new session. Not sticky: round robin.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from sockd.supervisor.routing.hashing import RendezvousHash
from sockd.supervisor.routing.least_loaded import LeastLoaded
from sockd.supervisor.routing.sticky_key import Route


class SlotOrder:
    def __init__(
        self, sticky: bool, hashing: RendezvousHash, sessions: Callable[[int], int]
    ) -> None:
        self._sticky = sticky
        self._hashing = hashing
        self._round_robin = itertools.count()
        self._least_loaded = LeastLoaded(sessions)

    def order(self, key: Route, slots: Sequence[int]) -> list[int]:
        """All ``slots``, the one to try first first."""
        if not self._sticky:
            start = next(self._round_robin) % len(slots)
            return [*slots[start:], *slots[:start]]
        if key.key is not None:
            return self._hashing.order(key.key, slots)
        if key.owner is not None and key.owner in slots:
            return [key.owner, *(slot for slot in slots if slot != key.owner)]
        return self._least_loaded.order(slots)
