"""The control channel's frames: length-prefixed, each with a kind byte.

A ``SOCK_STREAM`` socketpair per worker carries the worker's lifecycle reports, the
master's orders, and bus traffic (which can be far larger than a SEQPACKET message may
be, so it is framed here rather than sent as packets).
"""

from __future__ import annotations

import enum
import json
import socket
import struct
import time
from typing import Any

#: Frame header: payload length (including the kind byte), then the kind byte.
FRAME_HEADER = struct.Struct("!IB")
#: Upper bound for one frame, so a corrupted length never allocates gigabytes.
MAX_FRAME = 64 * 1024 * 1024


class Kind(enum.IntEnum):
    """What a control frame carries."""

    READY = 1  # worker → master: app started; JSON {"pid"}
    HEARTBEAT = 2  # worker → master: sent from inside the event loop
    FAILED = 3  # worker → master: startup failed; UTF-8 one-line reason
    BUS = 4  # both ways: an opaque pub/sub message, relayed by the master
    DRAIN = 5  # master → worker: JSON {"timeout": seconds}
    # worker → master, after each heartbeat and at the exit: JSON {"connections", "sessions",
    # "transports", "counters"} (sockd/worker/hosting/counters.py)
    STATS = 6
    OPTIONS = 7  # master → worker, the first frame: JSON WorkerOptions (secrets stay off argv)
    # Connection state recovery (sockd/wire/recovery.py): a stored packet to number, the
    # numbered packet every worker delivers, and session notes and orders.
    SEQUENCE = 8  # worker → master
    SEQUENCED = 9  # master → worker
    RECOVERY = 10  # both ways
    # Cluster requests (sockd.cluster), routed by the master: wire/cluster_frames.py.
    CLUSTER_REQUEST = 20  # both ways: a request, relayed to every other serving worker
    CLUSTER_SENT = 21  # master → requester: JSON {"id", "members": [[slot, pid], ...]}
    CLUSTER_ANSWER = 22  # both ways: one chunk of an answer, relayed to the requester
    CLUSTER_GONE = 23  # master → worker: JSON {"slot", "pid"} of a worker that exited


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


def receive_first_frame(fd: int, timeout: float) -> tuple[Kind, bytes]:
    """Read exactly one frame from the stream socket ``fd``, blocking up to ``timeout``.

    Nothing past the frame is read, so what follows stays for whoever reads ``fd`` next;
    ``fd`` stays open. A FrameError if the peer closes, stalls or sends garbage.
    """
    sock = socket.socket(fileno=fd)
    deadline = time.monotonic() + timeout
    try:
        length, kind = FRAME_HEADER.unpack(_receive_exactly(sock, FRAME_HEADER.size, deadline))
        if length < 1 or length > MAX_FRAME:
            raise FrameError(f"bad frame length {length}")
        try:
            frame_kind = Kind(kind)
        except ValueError as exc:
            raise FrameError(f"unknown frame kind {kind}") from exc
        return frame_kind, _receive_exactly(sock, length - 1, deadline)
    finally:
        sock.detach()


def _receive_exactly(sock: socket.socket, size: int, deadline: float) -> bytes:
    received = bytearray()
    while len(received) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FrameError("no frame from the peer in time")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(size - len(received))
        except TimeoutError:
            raise FrameError("no frame from the peer in time") from None
        if not chunk:
            raise FrameError("the peer closed the channel")
        received += chunk
    return bytes(received)
