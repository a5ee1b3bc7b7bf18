"""What a worker's recovery needs of the store that sequences stored packets and keeps sessions.

Two stores fit: the master (``master_store.py``, the IPC bus) and Redis (the Streams bus).
Session notes are written through as they happen and never awaited: a killed worker says
nothing more, so the store must already know what it had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sockd.worker.recovery.delivery import Order, Packets


@dataclass
class Restored:
    """A session the store gave back: its socket id, rooms and data."""

    sid: str
    rooms: list[Any]
    data: Any


class PutBack(Protocol):
    """The worker's side of one restore (the manager, for one CONNECT)."""

    def register(self, restored: Restored) -> str | None:
        """Register the socket with its rooms and data, its live packets held back from
        now; its socket id, or None if it cannot be put back here after all."""

    def finish(self, missed: list[Packets], position: Order | None) -> bool:
        """Write what it missed (up to ``position`` in the store's order), then let its
        live packets go; False if it held back too many meanwhile (then nothing was
        written: :meth:`abandon` it)."""

    def abandon(self) -> None:
        """The restore failed after all: unregister the socket (if registered), so the
        CONNECT makes a fresh one."""


class Store(Protocol):
    #: The offset of the last stored packet this worker delivered (None: none yet).
    position: str | None

    async def sequence(
        self,
        namespace: str,
        rooms: Sequence[Any] | None,
        excluded: Sequence[str],
        text: str,
        attachments: Sequence[bytes],
    ) -> None:
        """Number ``text`` (an encoded EVENT) and have every worker deliver it."""

    def opened(
        self, pid: str, sid: str, namespace: str, rooms: list[Any], data: Any, start: str | None
    ) -> None: ...

    def joined(self, pid: str, room: Any) -> None: ...

    def left(self, pid: str, room: Any) -> None: ...

    def saved(self, pid: str, data: Any) -> None: ...

    def lost(self, pid: str, reason: str) -> None:
        """The session's transport is gone; it may come back."""

    def ended(self, pid: str) -> None:
        """The session is over for good (a real disconnect)."""

    async def restore(
        self, pid: str, namespace: str, offset: str | None, target: PutBack
    ) -> str | None:
        """Ask for session ``pid`` and put it back through ``target``; the socket id."""
