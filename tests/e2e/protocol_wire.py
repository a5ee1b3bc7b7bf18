"""Raw Engine.IO v4 / Socket.IO v5 for the protocol tests: every byte is the test's own.

HTTP long-polling goes through aiohttp and WebSocket frames through the ``websockets``
library, both bound to one loopback source address, so the sticky master sends all of a
test's connections to one worker. No Socket.IO client library is involved. Every request
and every wait has a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection

#: The record separator between packets of a long-polling payload.
RS = "\x1e"
REQUEST_TIMEOUT = 10.0
FRAME_TIMEOUT = 5.0


@dataclass
class Reply:
    status: int
    text: str


class Wire:
    """One loopback source address talking raw protocol to a sockd on ``port``.

    Use it as ``async with``: that opens (and at exit closes) its HTTP session and sockets.
    """

    def __init__(self, port: int, source: str) -> None:
        self.port = port
        self.source = source
        self.http: aiohttp.ClientSession
        self._sockets: list[ClientConnection] = []

    async def __aenter__(self) -> Wire:
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(self.source, 0)),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in self._sockets:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)
        await self.http.close()

    def url(self, scheme: str = "http", **query: str | None) -> str:
        """The Socket.IO endpoint; ``None`` values leave a parameter out."""
        params = {key: value for key, value in query.items() if value is not None}
        return f"{scheme}://127.0.0.1:{self.port}/socket.io/?{urllib.parse.urlencode(params)}"

    async def request(
        self, method: str, body: str | None = None, timeout: float = REQUEST_TIMEOUT, **query: Any
    ) -> Reply:
        """One HTTP request (query defaults: ``EIO=4&transport=polling``).

        No answer within ``timeout`` is status 0, so a pending poll never leaves a failing
        task behind and the assertion shows what happened.
        """
        query = {"EIO": "4", "transport": "polling", **query}
        try:
            async with self.http.request(
                method,
                self.url(**query),
                data=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                return Reply(response.status, await response.text())
        except TimeoutError:
            return Reply(0, f"no answer within {timeout:.1f}s")

    async def poll(self, sid: str, timeout: float = REQUEST_TIMEOUT) -> Reply:
        return await self.request("GET", sid=sid, timeout=timeout)

    async def push(self, sid: str, body: str) -> Reply:
        return await self.request("POST", body, sid=sid)

    async def handshake(self) -> dict[str, Any]:
        """Open a long-polling session; its open packet's data."""
        reply = await self.request("GET")
        assert reply.status == 200, reply
        return open_packet(reply.text)

    async def socketio_polling(self) -> str:
        """A long-polling session connected to the main namespace; its Engine.IO sid."""
        sid = str((await self.handshake())["sid"])
        assert (await self.push(sid, "40")).status == 200
        reply = await self.poll(sid)
        assert reply.status == 200 and reply.text.startswith("40{"), reply
        return sid

    async def websocket(self, **query: str | None) -> ClientConnection:
        """Open a WebSocket (query defaults: ``EIO=4&transport=websocket``); closed at exit."""
        query = {"EIO": "4", "transport": "websocket", **query}
        ws = await websockets.connect(
            self.url("ws", **query),
            local_addr=(self.source, 0),
            open_timeout=REQUEST_TIMEOUT,
            close_timeout=2.0,
        )
        self._sockets.append(ws)
        return ws

    async def socketio_websocket(self, connect: str = "40") -> tuple[ClientConnection, str]:
        """A WebSocket session that sent ``connect`` and got its answer; (socket, eio sid)."""
        ws = await self.websocket()
        sid = str(open_packet(await receive(ws))["sid"])
        await ws.send(connect)
        answer = await receive(ws)
        assert isinstance(answer, str) and answer.startswith("40"), answer
        return ws, sid

    async def refused(self, **query: str | None) -> bool:
        """Whether a WebSocket with this query is refused at the handshake."""
        try:
            await self.websocket(**query)
        except websockets.InvalidStatus:
            return True
        return False

    async def accepted_then_closed(self, **query: str | None) -> int | None:
        """The close code of a WebSocket with this query that is accepted, then closed by the
        server without a frame; None if it is refused, or sent a frame, or stays open."""
        try:
            ws = await self.websocket(**query)
        except websockets.InvalidStatus:
            return None
        try:
            await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None
        except TimeoutError:
            pass
        return None

    async def has_session(self, eio_sid: str) -> bool:
        """Ask the worker (through a second connection) whether it still holds ``eio_sid``."""
        ws, _ = await self.socketio_websocket()
        [alive] = await ask(ws, 1, "has_session", eio_sid)
        await ws.close()
        return bool(alive)


def open_packet(text: str | bytes) -> dict[str, Any]:
    """The data of an Engine.IO open packet ``0{...}``."""
    assert isinstance(text, str) and text.startswith("0"), f"not an open packet: {text!r}"
    data = json.loads(text[1:])
    assert isinstance(data, dict)
    return data


def payload(text: str) -> list[str]:
    """The packets of a long-polling payload."""
    return text.split(RS) if text else []


async def receive(ws: ClientConnection, timeout: float = FRAME_TIMEOUT) -> str | bytes:
    """The next frame; fails after ``timeout`` seconds."""
    return await asyncio.wait_for(ws.recv(), timeout)


async def ask(
    ws: ClientConnection, ack_id: int, event: str, *args: Any, namespace: str = "/"
) -> list[Any]:
    """Emit ``event`` with an ack id over a connected WebSocket; the ack's arguments."""
    nsp = "" if namespace == "/" else f"{namespace},"
    await ws.send(f"42{nsp}{ack_id}" + json.dumps([event, *args]))
    prefix = f"43{nsp}{ack_id}"
    while True:
        frame = await receive(ws)
        if isinstance(frame, str) and frame.startswith(prefix):
            answer = json.loads(frame[len(prefix) :])
            assert isinstance(answer, list)
            return answer


async def frames_until_closed(ws: ClientConnection, timeout: float) -> list[str | bytes]:
    """Every frame until the server closes the socket (pings are answered, and kept).

    Fails if the socket is still open after ``timeout`` seconds.
    """
    frames: list[str | bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"still open after {timeout:.1f}s; frames: {frames!r}")
        try:
            frame = await asyncio.wait_for(ws.recv(), left)
        except websockets.ConnectionClosed:
            return frames
        except TimeoutError:
            continue
        frames.append(frame)
        if frame == "2":
            await ws.send("3")
