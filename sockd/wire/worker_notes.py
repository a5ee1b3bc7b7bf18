"""What a worker says back on its hand-off channel (worker → master).

The master reads these with the dispatcher, on the channel the connections came over, so
a worker's answer about a connection can never overtake the connection itself:

- ``FULL limit``: the worker is near its descriptor limit (``limit``, RLIMIT_NOFILE) and
  keeps the rest as its reserve: send its new connections elsewhere.
- ``OPEN``: back below its mark, it takes connections again.
- ``RETURNED`` with an fd: a connection that arrived after ``FULL``; route it again.
- ``CLOSED host...``: connections from these client addresses closed (only with
  ``--max-per-address``, which counts them).

Each message is one SEQPACKET message: a tag byte, then its text.
"""

from __future__ import annotations

import enum
import socket
from dataclasses import dataclass

from sockd.wire.frames import FrameError
from sockd.wire.handoff import (
    Handoff,
    HandoffLost,
    close_all,
    receive_with_fds,
    send_with_fd,
)

#: Largest message either side writes or reads: room for a hundred IPv6 addresses.
NOTE_MAX = 4096


class Note(enum.Enum):
    FULL = b"F"
    OPEN = b"O"
    RETURNED = b"R"
    CLOSED = b"C"


@dataclass(frozen=True)
class WorkerNote:
    note: Note
    #: FULL: the worker's descriptor limit.
    limit: int = 0
    #: RETURNED: the connection and its metadata.
    fd: int = -1
    meta: Handoff | None = None
    #: CLOSED: the client address of each connection that closed.
    hosts: tuple[str, ...] = ()


def send_full(channel: socket.socket, limit: int) -> None:
    channel.send(Note.FULL.value + str(limit).encode())


def send_open(channel: socket.socket) -> None:
    channel.send(Note.OPEN.value)


def send_returned(channel: socket.socket, fd: int, meta: Handoff) -> None:
    """Give a connection back (the caller closes its own copy once this returned)."""
    send_with_fd(channel, Note.RETURNED.value + meta.encode(), fd)


def send_closed(channel: socket.socket, hosts: list[str]) -> int:
    """Report closes for a prefix of ``hosts`` in one message; how many it took."""
    size, taken = 1, 0
    for host in hosts:
        size += len(host.encode()) + 1
        if size > NOTE_MAX:
            break
        taken += 1
    taken = max(taken, 1)  # a host longer than a message would block the rest forever
    body = "\n".join(hosts[:taken]).encode()[: NOTE_MAX - 1]
    channel.send(Note.CLOSED.value + body)
    return taken


def receive_note(channel: socket.socket) -> WorkerNote | None:
    """One note; ``None`` at EOF. ``BlockingIOError`` when there is none, ``HandoffLost``
    when a returned connection's fd could not be received, ``FrameError`` for garbage (any
    fd that came with it is closed)."""
    data, fds, flags = receive_with_fds(channel, NOTE_MAX)
    if not data and not fds:
        return None
    try:
        note = _parse(data, fds, flags)
    except (ValueError, FrameError):
        close_all(fds)
        raise
    return note


def _parse(data: bytes, fds: list[int], flags: int) -> WorkerNote:
    if flags & socket.MSG_TRUNC:
        raise FrameError(f"a note longer than {NOTE_MAX} bytes")
    try:
        note, text = Note(data[:1]), data[1:].decode()
    except (ValueError, UnicodeDecodeError):
        raise FrameError(f"unknown note {data[:16]!r}") from None
    if note is Note.RETURNED:
        meta = _meta(text)
        if not fds and flags & socket.MSG_CTRUNC:
            raise HandoffLost(meta)
        if len(fds) != 1:
            raise FrameError("a returned connection without exactly one fd")
        return WorkerNote(note, fd=fds[0], meta=meta)
    if fds:
        raise FrameError(f"a {note.name} note with an fd")
    if note is Note.FULL:
        if not text.isascii() or not text.isdigit():
            raise FrameError(f"a FULL note without a limit: {text[:16]!r}")
        return WorkerNote(note, limit=int(text))
    if note is Note.CLOSED:
        return WorkerNote(note, hosts=tuple(text.split("\n")))
    return WorkerNote(note)


def _meta(text: str) -> Handoff:
    host, _, port = text.rpartition(" ")
    if not port.isascii() or not port.isdigit():
        raise FrameError(f"a returned connection without its address: {text[:64]!r}")
    return Handoff(host, int(port))
