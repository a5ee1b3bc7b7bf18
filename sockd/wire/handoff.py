"""The hand-off channel: one client socket (``SCM_RIGHTS``) and its metadata per message.

A ``SOCK_SEQPACKET`` socketpair keeps message boundaries, so the fd travels in the same
message as the client address the master determined. The worker answers on the same
channel (:mod:`sockd.wire.worker_notes`).
"""

from __future__ import annotations

import array
import socket
from dataclasses import dataclass

from sockd.wire.frames import FrameError

#: Size of the receive buffer for one hand-off message's metadata.
HANDOFF_META_MAX = 512
FD_SIZE = array.array("i").itemsize


@dataclass(frozen=True)
class Handoff:
    """Metadata that travels with a client socket's fd."""

    #: The client address the master determined (the sticky key's source).
    peer_host: str
    peer_port: int

    def encode(self) -> bytes:
        return f"{self.peer_host} {self.peer_port}".encode()

    @classmethod
    def decode(cls, data: bytes) -> Handoff:
        host, _, port = data.decode().rpartition(" ")
        return cls(host, int(port))


class HandoffLost(FrameError):
    """The kernel dropped the message's fd (``MSG_CTRUNC``) because the receiver has no
    descriptor free: that connection is gone. ``meta`` is its client, when readable."""

    def __init__(self, meta: Handoff | None) -> None:
        super().__init__("its descriptor was dropped: the receiver is at its descriptor limit")
        self.meta = meta


def send_handoff(channel: socket.socket, client_fd: int, meta: Handoff) -> None:
    """Send the client's fd with ``meta``; raises ``BlockingIOError`` when full."""
    send_with_fd(channel, meta.encode(), client_fd)


def receive_handoff(channel: socket.socket) -> tuple[int, Handoff] | None:
    """Receive one hand-off; ``None`` at EOF. Raises ``BlockingIOError`` when empty,
    :class:`HandoffLost` when the fd could not be received, ``FrameError`` for garbage."""
    data, fds, flags = receive_with_fds(channel, HANDOFF_META_MAX)
    if not data and not fds:
        return None
    if not fds and flags & socket.MSG_CTRUNC:
        raise HandoffLost(_decoded(data))
    if len(fds) != 1 or flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC):
        close_all(fds)
        raise FrameError("hand-off message without exactly one fd")
    return fds[0], Handoff.decode(data)


def send_with_fd(channel: socket.socket, payload: bytes, fd: int) -> None:
    """One message carrying ``payload`` and a copy of ``fd``."""
    fds = array.array("i", (fd,))
    channel.sendmsg([payload], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])


def receive_with_fds(channel: socket.socket, size: int) -> tuple[bytes, list[int], int]:
    """One message: its bytes (at most ``size``), the fds that came with it, its flags."""
    data, ancillary, flags, _ = channel.recvmsg(size, socket.CMSG_SPACE(FD_SIZE))
    fds = array.array("i")
    for level, kind, cmsg in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cmsg[: len(cmsg) - (len(cmsg) % FD_SIZE)])
    return data, list(fds), flags


def close_all(fds: list[int]) -> None:
    for fd in fds:
        socket.close(fd)


def _decoded(data: bytes) -> Handoff | None:
    try:
        return Handoff.decode(data)
    except ValueError:  # UnicodeDecodeError is one too
        return None
