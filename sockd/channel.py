"""The master ⇄ worker wire format, shared by both sides.

Each worker has two socketpairs to the master:

* a ``SOCK_SEQPACKET`` *hand-off* channel: one message is one client socket
  (``SCM_RIGHTS``) plus its metadata, so message boundaries keep the fd and
  its metadata together;
* a ``SOCK_STREAM`` *control* channel carrying length-prefixed frames: the
  worker's lifecycle reports, the master's orders, and bus traffic (which can
  be far larger than a SEQPACKET message may be).
"""

from __future__ import annotations

import array
import enum
import json
import socket
import struct
from dataclasses import dataclass
from typing import Any

#: Frame header: payload length (including the kind byte), then the kind byte.
FRAME_HEADER = struct.Struct("!IB")
#: Upper bound for one frame, so a corrupted length never allocates gigabytes.
MAX_FRAME = 64 * 1024 * 1024
#: Size of the receive buffer for one hand-off message's metadata.
HANDOFF_META_MAX = 512


class Kind(enum.IntEnum):
    """What a control frame carries."""

    READY = 1  # worker → master: app started; JSON {"pid"}
    HEARTBEAT = 2  # worker → master: sent from inside the event loop
    FAILED = 3  # worker → master: startup failed; UTF-8 one-line reason
    BUS = 4  # both ways: an opaque pub/sub message, relayed by the master
    DRAIN = 5  # master → worker: JSON {"timeout": seconds}
    STATS = 6  # worker → master, after each heartbeat: JSON {"connections", "sessions"}


def encode_frame(kind: Kind, payload: bytes = b"") -> bytes:
    """Return one control frame."""
    return FRAME_HEADER.pack(len(payload) + 1, kind) + payload


def encode_json_frame(kind: Kind, body: dict[str, Any]) -> bytes:
    return encode_frame(kind, json.dumps(body, separators=(",", ":")).encode())


class FrameError(ValueError):
    """The peer sent bytes that are not a valid frame."""


class FrameDecoder:
    """Splits a byte stream into ``(kind, payload)`` frames.

    Frames are returned as they complete; a partial frame stays buffered.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[Kind, bytes]]:
        self._buffer += data
        frames: list[tuple[Kind, bytes]] = []
        offset = 0
        size = len(self._buffer)
        while size - offset >= FRAME_HEADER.size:
            length, kind = FRAME_HEADER.unpack_from(self._buffer, offset)
            if length < 1 or length > MAX_FRAME:
                raise FrameError(f"bad frame length {length}")
            end = offset + 4 + length
            if end > size:
                break
            try:
                frame_kind = Kind(kind)
            except ValueError as exc:
                raise FrameError(f"unknown frame kind {kind}") from exc
            frames.append((frame_kind, bytes(self._buffer[offset + FRAME_HEADER.size : end])))
            offset = end
        if offset:
            del self._buffer[:offset]
        return frames


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
