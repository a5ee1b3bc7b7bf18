"""One namespace at run time: connection onion, packet onion, controllers, system events.

Every error raised by app code is logged with the namespace, event and sid,
and answered: a failed connection gets ``connect_error``; a failed event gets
an ack ``{"error": message}`` when the client asked for one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import socketio

from sockd.worker.app_model.context import Context, Request, SocketHandle
from sockd.worker.app_model.controller import Handler
from sockd.worker.app_model.disconnect_reason import engine_session_open, socketio_reason
from sockd.worker.app_model.middleware import Middleware, run_onion
from sockd.worker.app_model.router import SYSTEM_EVENTS
from sockd.worker.app_model.session import SessionReader

if TYPE_CHECKING:
    from sockd.worker.app_model.application import Application

log = logging.getLogger("sockd.app")

#: Connection middleware must accept or refuse within this time.
CONNECT_TIMEOUT = 30.0
#: The code after ``await next()`` in connection middleware gets this long at disconnect.
UNWIND_TIMEOUT = 10.0


@dataclass
class Connection:
    ctx: Context
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    onion: asyncio.Task[Any] | None = None


class NamespaceRuntime:
    def __init__(
        self,
        app: Application,
        namespace: str,
        *,
        connection_middleware: Sequence[Middleware],
        packet_middleware: Sequence[Middleware],
        routes: dict[str, Handler],
        sessions: SessionReader,
    ) -> None:
        self.app = app
        self.namespace = namespace
        self._connection_middleware = list(connection_middleware)
        self._packet_middleware = list(packet_middleware)
        self._routes = routes
        self._sessions = sessions
        self._connections: dict[str, Connection] = {}
        #: Sockets whose connection middleware is still deciding.
        self._handshakes: set[str] = set()

    def bind(self, server: socketio.AsyncServer) -> None:
        server.on("connect", self.on_connect, namespace=self.namespace)
        server.on("disconnect", self.on_disconnect, namespace=self.namespace)
        server.on("*", self.on_event, namespace=self.namespace)

    # -- connect and disconnect -------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool | None:
        if sid in self._connections or sid in self._handshakes:
            # python-socketio hands a client's EVENT named "connect" to this handler too
            # (its environ is whatever the client sent); a handshake's sid is new.
            return None
        self._handshakes.add(sid)
        try:
            return await self._handshake(sid, environ, auth)
        finally:
            self._handshakes.discard(sid)

    async def _handshake(self, sid: str, environ: dict[str, Any], auth: Any) -> bool:
        request = Request.from_environ(environ)
        ctx = Context(
            app=self.app,
            socket=SocketHandle(self.app.io.server, sid, self.namespace),
            request=request,
            session=self._sessions.read(request.headers.get("cookie"), request.address),
            state={},
            auth=auth,
        )
        connection = Connection(ctx)
        accepted = asyncio.get_running_loop().create_future()

        async def connected() -> None:
            accepted.set_result(True)
            await connection.closed.wait()

        connection.onion = asyncio.create_task(
            run_onion(self._connection_middleware, ctx, connected)
        )
        await asyncio.wait(
            {accepted, connection.onion},
            timeout=CONNECT_TIMEOUT,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if accepted.done():
            self._connections[sid] = connection
            connection.onion.add_done_callback(lambda task: self._onion_done(task, sid))
            return True
        raise self._refusal(connection.onion, sid)

    def _refusal(
        self, onion: asyncio.Task[Any], sid: str
    ) -> socketio.exceptions.ConnectionRefusedError:
        if not onion.done():
            onion.cancel()
            log.error(
                "namespace %s sid %s: connection middleware did not finish", self.namespace, sid
            )
            return socketio.exceptions.ConnectionRefusedError("connection middleware timed out")
        error = onion.exception()
        if error is None:
            log.info("namespace %s sid %s: refused by connection middleware", self.namespace, sid)
            return socketio.exceptions.ConnectionRefusedError("Connection rejected")
        # An error that carries ``data`` is a refusal on purpose; any other gets its traceback
        # (passed explicitly: no exception is being handled here).
        log.info(
            "namespace %s sid %s: refused by connection middleware: %s: %s",
            self.namespace,
            sid,
            type(error).__name__,
            error,
            exc_info=None if hasattr(error, "data") else error,
        )
        data = getattr(error, "data", None)
        args = (str(error), data) if data is not None else (str(error),)
        return socketio.exceptions.ConnectionRefusedError(*args)

    def _onion_done(self, task: asyncio.Task[Any], sid: str) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "namespace %s sid %s: connection middleware failed after the connection",
                self.namespace,
                sid,
                exc_info=task.exception(),
            )

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        server = self.app.io.server
        if server.manager.is_connected(sid, self.namespace):
            # A client's EVENT named "disconnect" (python-socketio hands it to this handler
            # too); a real disconnect marks the socket as leaving before it calls here.
            return
        connection = self._connections.pop(sid, None)
        if connection is None:
            return
        reason = socketio_reason(reason, engine_session_open(server, sid, self.namespace))
        for event in ("disconnecting", "disconnect"):
            handler = self._routes.get(event)
            if handler is not None:
                ctx = connection.ctx.for_packet([event, reason])
                try:
                    await handler(ctx)
                except Exception:
                    log.exception("namespace %s event %s sid %s failed", self.namespace, event, sid)
        connection.closed.set()
        assert connection.onion is not None
        done, _ = await asyncio.wait({connection.onion}, timeout=UNWIND_TIMEOUT)
        if not done:
            connection.onion.cancel()
            log.error(
                "namespace %s sid %s: connection middleware still running %.0fs after disconnect",
                self.namespace,
                sid,
                UNWIND_TIMEOUT,
            )

    # -- packets -----------------------------------------------------------

    async def on_event(self, event: str, sid: str, *args: Any) -> Any:
        connection = self._connections.get(sid)
        if connection is None:
            return None
        ctx = connection.ctx.for_packet([event, *args])
        result: list[Any] = [None]

        async def controller() -> None:
            routed = ctx.event or event
            # A client cannot trigger the system-event controllers by sending their names.
            handler = None if routed in SYSTEM_EVENTS else self._routes.get(routed)
            if handler is not None:
                result[0] = await handler(ctx)

        try:
            await run_onion(self._packet_middleware, ctx, controller)
        except Exception as error:
            log.exception("namespace %s event %s sid %s failed", self.namespace, event, sid)
            await self._route_error(ctx, error)
            return {"error": str(error) or type(error).__name__}
        return result[0]

    async def _route_error(self, ctx: Context, error: Exception) -> None:
        handler = self._routes.get("error")
        if handler is None:
            return
        try:
            await handler(ctx.for_packet(["error", error]))
        except Exception:
            log.exception(
                "namespace %s sid %s: the error controller failed", self.namespace, ctx.socket.id
            )
