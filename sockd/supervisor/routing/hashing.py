"""Keyed rendezvous (highest random weight) hashing of sticky keys to slots.

Rendezvous hashing keeps a key on its slot whatever happens to the other
slots, and adding a slot moves only the keys the new slot wins (about 1/N).
The hash is keyed with a secret chosen at master start so that clients cannot
pick addresses that all land on one worker.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Any


class RendezvousHash:
    """Orders slots for a sticky key, best first."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else os.urandom(16)
        #: One keyed hasher per slot, copied per lookup (cheaper than keying anew).
        self._hashers: dict[int, Any] = {}

    def _score(self, key: bytes, slot: int) -> int:
        hasher = self._hashers.get(slot)
        if hasher is None:
            hasher = hashlib.blake2b(
                digest_size=8, key=self._secret, salt=slot.to_bytes(8, "little")
            )
            self._hashers[slot] = hasher
        scoring = hasher.copy()
        scoring.update(key)
        return int.from_bytes(scoring.digest(), "little")

    def order(self, key: bytes, slots: Sequence[int]) -> list[int]:
        """All ``slots``, the key's own slot first, then its fallbacks in order."""
        if len(slots) == 1:
            return list(slots)
        return sorted(slots, key=lambda slot: self._score(key, slot), reverse=True)
