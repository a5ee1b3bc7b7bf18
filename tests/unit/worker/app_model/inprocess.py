"""A real python-socketio server with the app model bound to it, and a Socket.IO client that
calls its ASGI app in-process over Engine.IO long-polling: no sockets, no processes.

Every request is bounded; a GET is made only when the server has something to answer, and
pings are far away (``ping_interval``), so nothing waits on a timer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import socketio
from socketio import packet as sio_packet

from sockd.worker.app_model.application import Application
from sockd.worker.app_model.context import Context
from sockd.worker.app_model.loader import ControllerGroup
from sockd.worker.app_model.middleware import Middleware
from sockd.worker.app_model.router import IO
from sockd.worker.app_model.runtime import NamespaceRuntime
from sockd.worker.app_model.session import SessionReader

SECRET = "unit-secret"
#: Bound of one in-process request.
REQUEST_TIMEOUT = 5.0

Handler = Callable[[Context], Awaitable[Any]]


class AppModel:
    """``app.io`` on a real ``socketio.AsyncServer``, namespaces bound as the worker binds them."""

    def __init__(self) -> None:
        self.server = socketio.AsyncServer(
            async_mode="asgi", ping_interval=60, ping_timeout=60, monitor_clients=False
        )
        self.io = IO(ControllerGroup("app/io/controller", {}), self.server)
        # The runtime reads app.io only; root, env and config are for app code.
        self.app = Application(Path("."), "unittest", None, self.io)  # type: ignore[arg-type]
        self.asgi = socketio.ASGIApp(self.server)

    def namespace(
        self,
        name: str = "/",
        *,
        connection: Sequence[Middleware] = (),
        packet: Sequence[Middleware] = (),
        routes: dict[str, Handler] | None = None,
    ) -> None:
        router = self.io.of(name)
        for event, handler in (routes or {}).items():
            router.route(event, handler)
        NamespaceRuntime(
            self.app,
            name,
            connection_middleware=connection,
            packet_middleware=packet,
            routes=router.routes,
            sessions=SessionReader(SECRET, "session", 3600),
        ).bind(self.server)

    def client(self, headers: dict[str, str] | None = None) -> PollingClient:
        return PollingClient(self.asgi, headers or {})


class PollingClient:
    """One Engine.IO session over long-polling, speaking Socket.IO packets."""

    def __init__(self, app: Any, headers: dict[str, str]) -> None:
        self._app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.sid: str | None = None
        self._received: list[sio_packet.Packet] = []

    async def _request(self, method: str, body: bytes = b"") -> bytes:
        query = "EIO=4&transport=polling" + (f"&sid={self.sid}" if self.sid else "")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/socket.io/",
            "raw_path": b"/socket.io/",
            "query_string": f"{query}&user=ada".encode(),
            "root_path": "",
            "headers": [
                (b"host", b"sockd"),
                (b"content-length", b"%d" % len(body)),
                *self._headers,
            ],
            "client": ("192.0.2.7", 4711),
            "server": ("127.0.0.1", 7001),
        }
        request = [{"type": "http.request", "body": body, "more_body": False}]
        response: dict[str, Any] = {"body": b""}

        async def receive() -> dict[str, Any]:
            if request:
                return request.pop()
            await asyncio.Event().wait()  # the client never goes away mid-request
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            else:
                response["body"] += message.get("body", b"")

        await asyncio.wait_for(self._app(scope, receive, send), REQUEST_TIMEOUT)
        assert response.get("status") == 200, response
        return bytes(response["body"])

    async def open(self) -> None:
        """The Engine.IO handshake."""
        body = await self._request("GET")
        assert body.startswith(b"0"), body
        self.sid = json.loads(body[1:])["sid"]

    async def send(self, *packets: sio_packet.Packet) -> None:
        body = "\x1e".join("4" + p.encode() for p in packets)
        answer = await self._request("POST", body.encode())
        assert answer.lower() == b"ok", answer  # sockd's protocol fixes answer in lower case

    async def close_transport(self) -> None:
        """Engine.IO's close packet: the transport goes away, not just a namespace."""
        assert (await self._request("POST", b"1")).lower() == b"ok"

    async def next_packet(self) -> sio_packet.Packet:
        """The next Socket.IO packet the server sent (a GET only when none is buffered)."""
        while not self._received:
            for message in (await self._request("GET")).decode().split("\x1e"):
                assert message.startswith("4"), f"not a message packet: {message!r}"
                self._received.append(sio_packet.Packet(encoded_packet=message[1:]))
        return self._received.pop(0)

    # -- Socket.IO ---------------------------------------------------------------------

    async def connect(self, namespace: str = "/", auth: Any = None) -> dict[str, Any]:
        """CONNECT to ``namespace``; returns the answer: ``{"sid"}`` or ``{"error": data}``."""
        if self.sid is None:
            await self.open()
        await self.send(sio_packet.Packet(sio_packet.CONNECT, auth, namespace=namespace))
        answer = await self.next_packet()
        assert (answer.namespace or "/") == namespace, answer.encode()
        if answer.packet_type == sio_packet.CONNECT_ERROR:
            return {"error": answer.data}
        assert answer.packet_type == sio_packet.CONNECT, answer.encode()
        return dict(answer.data)

    async def emit(self, event: str, *args: Any, namespace: str = "/") -> None:
        await self.send(sio_packet.Packet(sio_packet.EVENT, [event, *args], namespace=namespace))

    async def call(self, event: str, *args: Any, namespace: str = "/") -> list[Any]:
        """Emit with an ack id; returns the ack's arguments."""
        await self.send(
            sio_packet.Packet(sio_packet.EVENT, [event, *args], namespace=namespace, id=1)
        )
        answer = await self.next_packet()
        assert (answer.packet_type, answer.id) == (sio_packet.ACK, 1), answer.encode()
        return list(answer.data)

    async def leave(self, namespace: str = "/") -> None:
        """The client's DISCONNECT of one namespace."""
        await self.send(sio_packet.Packet(sio_packet.DISCONNECT, namespace=namespace))


async def settle(done: Callable[[], bool], what: str, turns: int = 200) -> None:
    """Let the loop run what is ready until ``done()``; no time passes."""
    for _ in range(turns):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"not reached after {turns} loop turns: {what}")
