"""One Socket.IO session over HTTP long-polling, as a browser runs it.

A long GET is always outstanding on one keep-alive connection while events are POSTed on
another, both from the same source address. Each request must reach the process holding
the Engine.IO session; when one does not, the server answers 400 "Invalid session", which
is counted here as an unknown-session failure: the thing sticky sessions exist to prevent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from bench.loadgen import packets
from bench.loadgen.http import HttpError, KeepAlive


class UnknownSession(ConnectionError):
    """The server did not know the session id: a request reached the wrong process."""


class PollingSession:
    """Open with :meth:`open`, then :meth:`call`; always :meth:`close`."""

    def __init__(self, port: int, source: str) -> None:
        self.port = port
        self.source = source
        self.sid = ""
        self.requests = 0
        self._get: KeepAlive | None = None
        self._post: KeepAlive | None = None
        self._post_lock = asyncio.Lock()
        self._reader: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_ack = 0

    async def open(self) -> None:
        """Handshake, connect the default namespace, start the long-poll loop."""
        self._get = await KeepAlive.open(self.port, self.source)
        self._post = await KeepAlive.open(self.port, self.source)
        body = await self._request(self._get, "GET", packets.EIO_PATH + "polling")
        opened = packets.parse(body.split(packets.RECORD_SEPARATOR)[0])
        if opened.kind != "open":
            raise HttpError(f"no open packet: {body[:80]!r}")
        self.sid = opened.args["sid"]
        await self._send("40")
        self._reader = asyncio.get_running_loop().create_task(self._poll())
        await self._connected

    async def call(self, name: str, data: Any) -> Any:
        """POST an event asking for an ack; return the ack's arguments (it arrives by GET)."""
        self._next_ack += 1
        ack_id = self._next_ack
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        try:
            await self._send(packets.event(name, data, ack_id))
            return await future
        finally:
            self._acks.pop(ack_id, None)

    async def close(self) -> None:
        """Stop polling and drop both connections (the server times the session out)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        for conn in (self._get, self._post):
            if conn is not None:
                conn.close()

    # ---- internals

    def _path(self) -> str:
        return f"{packets.EIO_PATH}polling&sid={self.sid}"

    async def _send(self, text: str) -> None:
        assert self._post is not None
        async with self._post_lock:
            body = await self._request(self._post, "POST", self._path(), text.encode())
        if body.lower() != "ok":
            raise HttpError(f"POST answered {body[:80]!r}")

    async def _request(self, conn: KeepAlive, method: str, path: str, body: bytes = b"") -> str:
        self.requests += 1
        status, data = await conn.request(method, path, body)
        text = data.decode()
        if status == 400 and "Invalid session" in text:
            raise UnknownSession(text)
        if status != 200:
            raise HttpError(f"{method} answered {status}: {text[:80]!r}")
        return text

    async def _poll(self) -> None:
        assert self._get is not None
        try:
            while True:
                body = await self._request(self._get, "GET", self._path())
                for text in body.split(packets.RECORD_SEPARATOR):
                    self._on_packet(text)
        except (ConnectionError, json.JSONDecodeError, ValueError) as exc:
            self._fail(exc)

    def _on_packet(self, text: str) -> None:
        packet = packets.parse(text)
        if packet.kind == "ack":
            future = self._acks.get(packet.ack_id)
            if future is not None and not future.done():
                future.set_result(packet.args)
        elif packet.kind == "connect":
            if not self._connected.done():
                self._connected.set_result(None)
        elif packet.kind == "ping":
            asyncio.get_running_loop().create_task(self._pong())
        elif packet.kind in ("close", "connect_error"):
            self._fail(HttpError(f"server ended the session: {text[:80]!r}"))

    async def _pong(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._send("3")

    def _fail(self, exc: BaseException) -> None:
        for future in [self._connected, *self._acks.values()]:
            if not future.done():
                future.set_exception(exc)
