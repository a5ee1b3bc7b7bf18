"""The hand-off channel: one client socket (``SCM_RIGHTS``) and its metadata per message.

A ``SOCK_SEQPACKET`` socketpair keeps message boundaries, so the fd travels in the same
message as the client address the master determined.
"""

from __future__ import annotations

import array
import socket
from dataclasses import dataclass

from sockd.wire.frames import FrameError

#: Size of the receive buffer for one hand-off message's metadata.
HANDOFF_META_MAX = 512


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


def send_handoff(channel: socket.socket, client_fd: int, meta: Handoff) -> None:
    """Send the client's fd with ``meta``; raises ``BlockingIOError`` when full."""
    fds = array.array("i", (client_fd,))
    channel.sendmsg([meta.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])


def receive_handoff(channel: socket.socket) -> tuple[int, Handoff] | None:
    """Receive one hand-off; ``None`` at EOF. Raises ``BlockingIOError`` when empty."""
    fd_size = array.array("i").itemsize
    data, ancillary, flags, _ = channel.recvmsg(HANDOFF_META_MAX, socket.CMSG_SPACE(fd_size))
    fds = array.array("i")
    for level, kind, cmsg in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cmsg[: len(cmsg) - (len(cmsg) % fd_size)])
    if not data and not fds:
        return None
    if len(fds) != 1 or flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC):
        for fd in fds:
            socket.close(fd)
        raise FrameError("hand-off message without exactly one fd")
    return fds[0], Handoff.decode(data)
