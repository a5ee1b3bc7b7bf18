"""Minimal RFC 6455 client framing: masked frames out, server frames in.

Clients must mask; the key is all zeros, which RFC 6455 allows on the wire (servers unmask
whatever key comes) and which makes masking free here. Servers pay the same unmasking cost
for any key, so no system gains from it. Incoming messages compressed with permessage-deflate
(RSV1) are inflated; outgoing ones are never compressed (allowed per message).
"""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Iterator

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_ZERO_MASK = b"\x00\x00\x00\x00"
_DEFLATE_TAIL = b"\x00\x00\xff\xff"


def upgrade_request(path: str, host: str, offer_deflate: bool) -> bytes:
    """The HTTP/1.1 upgrade request; ``offer_deflate`` offers what browsers offer."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if offer_deflate:
        lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def encode(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """One final, masked (zero key) client frame."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return header + _ZERO_MASK + payload


class FrameReader:
    """Incremental parser of server frames; yields whole messages as (opcode, payload)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._parts: list[bytes] = []
        self._message_opcode = OP_TEXT
        self._message_compressed = False
        self._inflate: zlib._Decompress | None = None
        self._reset_each_message = False

    def enable_deflate(self, response_extensions: str) -> None:
        """Inflate RSV1 messages, as negotiated in the server's extension header."""
        self._inflate = zlib.decompressobj(-15)
        self._reset_each_message = "server_no_context_takeover" in response_extensions

    def feed(self, data: bytes) -> Iterator[tuple[int, bytes]]:
        """Parse ``data``; yield each complete message (control frames included)."""
        buffer = self._buffer + data if self._buffer else data
        pos, end = 0, len(buffer)
        while end - pos >= 2:
            first, second = buffer[pos], buffer[pos + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                if end - pos < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, pos + 2)
                header = 4
            elif length == 127:
                if end - pos < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, pos + 2)
                header = 10
            if second & 0x80:
                header += 4  # a masked server frame: not expected, skipped over correctly
            if end - pos < header + length:
                break
            payload = buffer[pos + header : pos + header + length]
            pos += header + length
            message = self._assemble(first, payload)
            if message is not None:
                yield message
        self._buffer = buffer[pos:]

    def _assemble(self, first: int, payload: bytes) -> tuple[int, bytes] | None:
        opcode, fin = first & 0x0F, first & 0x80
        if opcode >= OP_CLOSE:
            return opcode, payload  # control frames are never fragmented or compressed
        if opcode != OP_CONT:
            self._message_opcode = opcode
            self._message_compressed = bool(first & 0x40)
        if not fin:
            self._parts.append(payload)
            return None
        if self._parts:
            self._parts.append(payload)
            payload = b"".join(self._parts)
            self._parts = []
        if self._message_compressed and self._inflate is not None:
            payload = self._inflate.decompress(payload + _DEFLATE_TAIL)
            if self._reset_each_message:
                self._inflate = zlib.decompressobj(-15)
        return self._message_opcode, payload
