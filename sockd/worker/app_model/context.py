"""What middleware and controllers see: ``ctx.app``, ``ctx.socket``, ``ctx.request``,
``ctx.session``, ``ctx.args``, ``ctx.packet``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import socketio

if TYPE_CHECKING:
    from sockd.worker.app_model.application import Application


@dataclass(frozen=True)
class Request:
    """The handshake request of a connection."""

    headers: dict[str, str]
    query: dict[str, str]
    #: The client's address as the master determined it.
    client: tuple[str, int] | None
    path: str

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        scope = environ.get("asgi.scope", {})
        return cls.from_scope(scope) if scope else cls({}, {}, None, environ.get("PATH_INFO", ""))

    @classmethod
    def from_scope(cls, scope: dict[str, Any]) -> Request:
        headers: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        client = scope.get("client")
        return cls(headers, query, tuple(client) if client else None, scope.get("path", ""))

    @property
    def address(self) -> str | None:
        return self.client[0] if self.client else None


class RoomEmitter:
    """``ctx.socket.to(room)``: emit to a room, except the sender."""

    def __init__(self, socket: SocketHandle, room: str) -> None:
        self._socket = socket
        self._room = room

    async def emit(self, event: str, *args: Any) -> None:
        await self._socket.server.emit(
            event,
            _payload(args),
            to=self._room,
            skip_sid=self._socket.id,
            namespace=self._socket.namespace,
        )


class SocketHandle:
    """``ctx.socket``: one client's connection in one namespace."""

    def __init__(self, server: socketio.AsyncServer, sid: str, namespace: str) -> None:
        self.server = server
        self.id = sid
        self.namespace = namespace
        #: Whether connection state recovery restored this socket after a disconnection.
        self.recovered = False
        #: The rooms it was in when its session ended after a loss (its socket is gone).
        self.final_rooms: list[Any] | None = None

    async def emit(self, event: str, *args: Any) -> None:
        await self.server.emit(event, _payload(args), to=self.id, namespace=self.namespace)

    async def call(self, event: str, *args: Any, timeout: float = 60) -> Any:
        """Emit and wait for the client's ack."""
        return await self.server.call(
            event, _payload(args), to=self.id, namespace=self.namespace, timeout=timeout
        )

    async def join(self, room: str) -> None:
        await self.server.enter_room(self.id, room, namespace=self.namespace)

    async def leave(self, room: str) -> None:
        await self.server.leave_room(self.id, room, namespace=self.namespace)

    def to(self, room: str) -> RoomEmitter:
        return RoomEmitter(self, room)

    @property
    def rooms(self) -> list[Any]:
        if self.final_rooms is not None:
            return list(self.final_rooms)
        return list(self.server.rooms(self.id, namespace=self.namespace))

    async def disconnect(self) -> None:
        await self.server.disconnect(self.id, namespace=self.namespace)

    @property
    def data(self) -> dict[str, Any]:
        """This socket's data (Node's ``socket.data``): what ``save_session`` holds, the
        ``data`` every worker's ``fetch_sockets`` reports for it. Change it in place, or
        assign a new dict."""
        session = self._engine_session()
        return session.setdefault(self.namespace, {}) if session is not None else {}

    @data.setter
    def data(self, value: dict[str, Any]) -> None:
        session = self._engine_session()
        if session is not None:
            session[self.namespace] = value

    def _engine_session(self) -> dict[str, Any] | None:
        """python-socketio keeps each namespace's session in the Engine.IO session."""
        eio_sid = self.server.manager.eio_sid_from_sid(self.id, self.namespace)
        engine_socket = self.server.eio.sockets.get(eio_sid)
        return getattr(engine_socket, "session", None)


def _payload(args: tuple[Any, ...]) -> Any:
    """python-socketio sends a tuple as several arguments and anything else as one."""
    return args[0] if len(args) == 1 else args


@dataclass
class Context:
    """One connection's (or one packet's) context, as in egg-socket.io."""

    app: Application
    socket: SocketHandle
    request: Request
    session: dict[str, Any]
    #: Per-connection scratch space shared by middleware and controllers.
    state: dict[str, Any]
    #: What the client sent with its Socket.IO CONNECT (``auth`` in the JS client).
    auth: Any = None
    #: The event name and its arguments: ``[event, *args]``; empty at connect.
    packet: list[Any] = field(default_factory=list)

    @property
    def event(self) -> str | None:
        return self.packet[0] if self.packet else None

    @property
    def args(self) -> list[Any]:
        return self.packet[1:]

    def for_packet(self, packet: list[Any]) -> Context:
        """A context for one packet of this connection."""
        return Context(
            self.app, self.socket, self.request, self.session, self.state, self.auth, packet
        )
