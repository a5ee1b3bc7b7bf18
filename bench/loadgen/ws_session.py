"""One Socket.IO session over a direct WebSocket, as an asyncio protocol.

Connects from a chosen source address, upgrades, answers Engine.IO pings and WebSocket
pings, connects the default namespace, then sends events (optionally awaiting their ack)
and hands received events to a callback. No reconnection, no buffering beyond the kernel's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, cast

from bench.loadgen import packets, wsframe
from bench.loadgen.addresses import connect_from

EventHandler = Callable[[str, list[Any]], None]
_PONG = wsframe.encode(b"3")
_CONNECT = wsframe.encode(b"40")


class HandshakeError(ConnectionError):
    """The server refused the upgrade or the Socket.IO connect."""


class WsSession(asyncio.Protocol):
    """A connected Socket.IO client over WebSocket (open one with :meth:`open`)."""

    def __init__(self, host: str, offer_deflate: bool, on_event: EventHandler | None) -> None:
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.on_event = on_event
        self.sid = ""
        self._host = host
        self._offer_deflate = offer_deflate
        self._transport: asyncio.Transport | None = None
        self._head = b""
        self._upgraded = False
        self._reader = wsframe.FrameReader()
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0

    @classmethod
    async def open(
        cls,
        port: int,
        source: str,
        *,
        host: str = "127.0.0.1",
        offer_deflate: bool = True,
        on_event: EventHandler | None = None,
        timeout: float = 10.0,
    ) -> WsSession:
        """Connect from ``source`` to ``host:port`` and finish the Socket.IO connect, within
        ``timeout``."""
        session = cls(f"{host}:{port}", offer_deflate, on_event)
        async with asyncio.timeout(timeout):
            await connect_from(source, port, lambda: session, host)
            try:
                await asyncio.shield(session.ready)
            except BaseException:
                session.close()
                raise
        return session

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        path = packets.EIO_PATH + "websocket"
        self._transport.write(wsframe.upgrade_request(path, self._host, self._offer_deflate))

    def data_received(self, data: bytes) -> None:
        if not self._upgraded:
            data = self._finish_upgrade(data)
            if not data:
                return
        for opcode, payload in self._reader.feed(data):
            if opcode == wsframe.OP_TEXT:
                self._on_text(payload.decode())
            elif opcode == wsframe.OP_PING:
                self._write(wsframe.encode(payload, wsframe.OP_PONG))
            elif opcode == wsframe.OP_CLOSE:
                self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        error = ConnectionError(f"connection lost: {exc!r}")
        if not self.ready.done():
            self.ready.set_exception(error)
        for future in self._acks.values():
            if not future.done():
                future.set_exception(error)
        self._acks.clear()
        if not self.closed.done():
            self.closed.set_result(None)

    # ---- sending

    def emit(self, name: str, data: Any) -> None:
        """Send an event without asking for an ack."""
        self._write(wsframe.encode(packets.event(name, data).encode()))

    def call(self, name: str, data: Any) -> asyncio.Future[Any]:
        """Send an event asking for an ack; the future gets the ack's arguments."""
        self._next_ack += 1
        ack_id = self._next_ack
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        self._write(wsframe.encode(packets.event(name, data, ack_id).encode()))
        return future

    def close(self) -> None:
        """Drop the connection (the server sees EOF, as when a tab closes)."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection without flushing (for teardown)."""
        if self._transport is not None:
            self._transport.abort()

    # ---- internals

    def _write(self, frame: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(frame)

    def _finish_upgrade(self, data: bytes) -> bytes:
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            return b""
        head, rest = self._head[:end].decode("latin-1"), self._head[end + 4 :]
        self._head = b""
        status = head.split(" ", 2)
        if len(status) < 2 or status[1] != "101":
            self._fail(HandshakeError(f"upgrade refused: {head.splitlines()[0]!r}"))
            return b""
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-extensions" and "deflate" in value:
                self._reader.enable_deflate(value)
        self._upgraded = True
        return rest

    def _on_text(self, text: str) -> None:
        packet = packets.parse(text)
        kind = packet.kind
        if kind == "event":
            if self.on_event is not None:
                self.on_event(packet.name, packet.args)
        elif kind == "ack":
            future = self._acks.pop(packet.ack_id, None)
            if future is not None and not future.done():
                future.set_result(packet.args)
        elif kind == "ping":
            self._write(_PONG)
        elif kind == "open":
            self._write(_CONNECT)
        elif kind == "connect":
            self.sid = (packet.args or {}).get("sid", "")
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "connect_error":
            self._fail(HandshakeError(f"connect_error {packet.args}"))
        elif kind == "close":
            self.close()

    def _fail(self, error: Exception) -> None:
        if not self.ready.done():
            self.ready.set_exception(error)
        self.close()


async def close_all(sessions: list[WsSession], timeout: float = 5.0) -> None:
    """Close every session and wait (bounded) until the kernel reports them closed."""
    for session in sessions:
        session.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(s.closed for s in sessions), return_exceptions=True)
    for session in sessions:
        if not session.closed.done():
            session.abort()
