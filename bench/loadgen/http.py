"""Minimal HTTP/1.1 clients on asyncio protocols: one-shot, and keep-alive.

Enough for Engine.IO long-polling: Content-Length and chunked bodies, one request at a
time per connection (browsers use one connection for the long GET, one for the POSTs).
"""

from __future__ import annotations

import asyncio
from typing import cast

from bench.loadgen.addresses import connect_from


class HttpError(ConnectionError):
    """The connection closed or sent something that is not an HTTP response."""


def request_bytes(
    method: str, path: str, host: str, body: bytes = b"", close: bool = False
) -> bytes:
    """An HTTP/1.1 request with a body (text/plain, as Engine.IO clients send)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
    if close:
        head += "Connection: close\r\n"
    if method == "POST":
        head += f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


class OneShot(asyncio.Protocol):
    """Send one request with ``Connection: close`` and collect everything until EOF."""

    def __init__(self, request: bytes) -> None:
        self._request = request
        self._chunks: list[bytes] = []
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self._request)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(b"".join(self._chunks))


async def one_shot(port: int, source: str, request: bytes) -> bytes:
    """Connect from ``source``, send ``request``, return the whole response (unbounded: the
    caller bounds the wait)."""
    transport, protocol = await connect_from(source, port, lambda: OneShot(request))
    try:
        return await protocol.done
    finally:
        transport.abort()


class KeepAlive(asyncio.Protocol):
    """A persistent connection carrying one request at a time."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._pending: asyncio.Future[tuple[int, bytes]] | None = None
        self._closed = False

    @classmethod
    async def open(cls, port: int, source: str) -> KeepAlive:
        """Connect from ``source`` (the caller bounds the wait)."""
        _, conn = await connect_from(source, port, lambda: cls(f"127.0.0.1:{port}"))
        return conn

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send a request and return (status, body)."""
        if self._closed or self._transport is None:
            raise HttpError("connection closed")
        assert self._pending is None, "one request at a time"
        self._pending = asyncio.get_running_loop().create_future()
        self._transport.write(request_bytes(method, path, self.host, body))
        try:
            return await self._pending
        finally:
            self._pending = None

    def close(self) -> None:
        """Close the connection (a pending request fails)."""
        if self._transport is not None:
            self._transport.abort()

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        response = _parse(self._buffer)
        if response is None:
            return
        status, body, used = response
        self._buffer = self._buffer[used:]
        if self._pending is not None and not self._pending.done():
            self._pending.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._pending is not None and not self._pending.done():
            self._pending.set_exception(HttpError(f"connection lost: {exc!r}"))


def _parse(buffer: bytes) -> tuple[int, bytes, int] | None:
    """(status, body, bytes used) once ``buffer`` holds a whole response, else None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buffer[:end].decode("latin-1").split("\r\n")
    try:
        status = int(head[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise HttpError(f"not an HTTP response: {head[0]!r}") from None
    length, chunked = 0, False
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    start = end + 4
    if not chunked:
        if len(buffer) - start < length:
            return None
        return status, buffer[start : start + length], start + length
    body: list[bytes] = []
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(buffer[pos:line_end].split(b";")[0], 16)
        if len(buffer) < line_end + 2 + size + 2:
            return None
        if size == 0:
            return status, b"".join(body), line_end + 4
        body.append(buffer[line_end + 2 : line_end + 2 + size])
        pos = line_end + 2 + size + 2
