"""The master's reader of what one worker says back on its hand-off channel.

It reads a duplicate of the master's end of the channel, so it keeps reading until the
worker itself is gone (the end of the channel), whoever closes the original meanwhile: a
worker replaced in a rolling reload still hands back what it cannot take while it drains.
What it reads goes to the dispatcher (:class:`LinkEvents`); see
:mod:`sockd.wire.worker_notes` for the notes. With ``--max-per-address`` the link also
counts the connections it carries, per client address, until the worker reports them
closed, hands them back or exits.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from typing import Protocol

from sockd.counted_log import CountedLog
from sockd.supervisor.routing.address_limit import AddressLimit
from sockd.supervisor.routing.sticky_key import peer_name
from sockd.wire.frames import FrameError
from sockd.wire.handoff import Handoff, HandoffLost
from sockd.wire.worker_notes import Note, WorkerNote, receive_note

log = logging.getLogger("sockd.master")

#: Notes read per readiness callback, so one chatty worker cannot starve the loop.
READ_BATCH = 64


def open_link(
    channel: socket.socket, slot: int, events: LinkEvents, per_address: AddressLimit | None
) -> WorkerLink | None:
    """A link to the worker on ``channel``; None if the master is out of descriptors for
    it (then that worker is served as if it never said anything: nothing is counted)."""
    try:
        return WorkerLink(channel, slot, events, per_address)
    except OSError as exc:
        log.error("cannot read what worker %d says back: %s", slot, exc.strerror or exc)
        return None


class LinkEvents(Protocol):
    def worker_full(self, link: WorkerLink, limit: int) -> None: ...
    def worker_open(self, link: WorkerLink) -> None: ...
    def connection_returned(self, link: WorkerLink, fd: int, meta: Handoff) -> None: ...
    def link_gone(self, link: WorkerLink) -> None: ...


class WorkerLink:
    def __init__(
        self,
        channel: socket.socket,
        slot: int,
        events: LinkEvents,
        per_address: AddressLimit | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        #: The channel the dispatcher sends on (the link reads a duplicate of it).
        self.channel = channel
        self.slot = slot
        self._events = events
        self._per_address = per_address
        #: Open connections handed over this link, by client address.
        self._open_by_address: Counter[str] = Counter()
        self._counted = CountedLog(log)
        self._sock: socket.socket | None = channel.dup()
        self._sock.setblocking(False)
        self._loop.add_reader(self._sock.fileno(), self._read)

    def handed_off(self, host: str) -> None:
        """A connection from ``host`` went to the worker over this link."""
        if self._per_address is not None:
            self._per_address.opened(host, self._open_by_address)

    def close(self) -> None:
        """Stop reading and let go of the duplicate (the master stops, or the worker left)."""
        if self._sock is not None:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()
            self._sock = None

    def _read(self) -> None:
        for _ in range(READ_BATCH):
            if self._sock is None:
                return
            try:
                note = receive_note(self._sock)
            except BlockingIOError:
                return
            except HandoffLost as exc:
                self._lost(exc.meta)
                continue
            except FrameError as exc:
                self._counted.note(
                    "bad",
                    logging.ERROR,
                    f"bad note from worker {self.slot}: {exc}",
                    f"{{count}} more bad notes from worker {self.slot} in the last {{seconds}}s",
                )
                continue
            except OSError:
                note = None  # reset: as good as the end of the channel
            if note is None:
                self.close()
                if self._per_address is not None:
                    self._per_address.forget(self._open_by_address)
                self._events.link_gone(self)
                return
            self._deliver(note)

    def _deliver(self, note: WorkerNote) -> None:
        if note.note is Note.FULL:
            self._events.worker_full(self, note.limit)
        elif note.note is Note.OPEN:
            self._events.worker_open(self)
        elif note.note is Note.RETURNED and note.meta is not None:
            self._closed((note.meta.peer_host,))
            self._events.connection_returned(self, note.fd, note.meta)
        elif note.note is Note.CLOSED:
            self._closed(note.hosts)

    def _closed(self, hosts: tuple[str, ...]) -> None:
        """The worker no longer has these connections (closed, or handed back)."""
        if self._per_address is not None:
            for host in hosts:
                self._per_address.closed(host, self._open_by_address)

    def _lost(self, meta: Handoff | None) -> None:
        """The master could not take back a connection: it is out of descriptors itself."""
        client = f" from {peer_name(meta.peer_host)}" if meta is not None else ""
        self._counted.note(
            "lost",
            logging.ERROR,
            f"lost a connection{client} handed back by worker {self.slot}: the master is "
            "at its descriptor limit",
            f"lost {{count}} more connections handed back by worker {self.slot} in the last "
            "{seconds}s: the master is at its descriptor limit",
        )
        if meta is not None:
            self._closed((meta.peer_host,))
