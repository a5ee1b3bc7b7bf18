"""The dispatcher's state of one slot, and of one connection waiting for a slot."""

from __future__ import annotations

import socket
from collections import deque
from dataclasses import dataclass, field

from sockd.supervisor.routing.worker_link import WorkerLink
from sockd.wire.handoff import Handoff


@dataclass
class PendingConnection:
    #: The accepted connection; the dispatcher owns it until it is handed off or closed.
    fd: int
    meta: Handoff
    #: Slots to try, the client's own first.
    order: list[int]
    position: int
    deadline: float
    #: When the dispatcher got it (its wait for a worker is measured from then).
    since: float = 0.0


@dataclass
class SlotRoute:
    """The master's view of one slot's path to its worker."""

    channel: socket.socket | None = None
    #: What the slot's current worker says back (None until it is ready).
    link: WorkerLink | None = None
    #: The worker is near its descriptor limit: skip the slot until it says otherwise.
    full: bool = False
    queue: deque[PendingConnection] = field(default_factory=deque)
    writer_armed: bool = False
    #: Connections handed to this slot's workers since the master started.
    handed_off: int = 0

    @property
    def taking(self) -> bool:
        """Whether the slot's worker takes connections now."""
        return self.channel is not None and not self.full
