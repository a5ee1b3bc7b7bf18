"""What a worker's recovery needs of the store that sequences stored packets and keeps sessions.

Two stores fit: the master (``master_store.py``, the IPC bus) and Redis (the Streams bus).
Session notes are written through as they happen and never awaited: a killed worker says
nothing more, so the store must already know what it had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Restored:
    """A session the store gave back: its socket id, rooms, data, and what it missed."""

    sid: str
    rooms: list[Any]
    data: Any
    #: The SEQUENCED payloads it missed, in order.
    missed: list[bytes] = field(default_factory=list)
    #: Its socket is still held on this worker by an older transport: drop that one.
    takeover: bool = False


#: Applied in the order of the bus's deliveries (see :meth:`Store.restore`); returns the
#: socket id registered, or None if the session could not be put back here after all.
Apply = Callable[[Restored | None], str | None]


class Store(Protocol):
    #: The offset of the last stored packet this worker delivered (None: none yet).
    position: str | None

    def sequence(
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
        self, pid: str, namespace: str, offset: str | None, apply: Apply
    ) -> str | None:
        """Ask for session ``pid``; ``apply`` runs with the answer at its place among the
        stored packets this worker delivers (so it can join the rooms and write the missed
        packets before any later one), and its result is returned."""
