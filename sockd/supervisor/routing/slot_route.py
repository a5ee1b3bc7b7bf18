"""The dispatcher's state of one slot, and of one connection waiting for a slot."""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sockd.supervisor.routing.worker_link import WorkerLink
from sockd.wire.handoff import Handoff, send_handoff


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

    def hand_off(self, fd: int, meta: Handoff) -> bool | None:
        """Send one connection to the slot's worker: True once sent (``fd`` is closed here,
        the worker holds its own copy), False if the channel is full, None if the worker is
        gone (the connection stays the caller's)."""
        assert self.channel is not None
        try:
            send_handoff(self.channel, fd, meta)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                raise
            return None
        os.close(fd)
        self.handed_off += 1
        if self.link is not None:
            self.link.handed_off(meta.peer_host)
        return True

    def arm(self, loop: asyncio.AbstractEventLoop, flush: Callable[[], None]) -> None:
        """Call ``flush`` when the channel has room again (its waiting connections)."""
        if not self.writer_armed and self.channel is not None:
            loop.add_writer(self.channel.fileno(), flush)
            self.writer_armed = True

    def disarm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.writer_armed and self.channel is not None:
            loop.remove_writer(self.channel.fileno())
        self.writer_armed = False
