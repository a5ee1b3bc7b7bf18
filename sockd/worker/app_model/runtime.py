"""One namespace at run time: connection onion, packet onion, controllers, system events.

Every error raised by app code is logged with the namespace, event and sid,
and answered: a failed connection gets ``connect_error``; a failed event gets
an ack ``{"error": message}`` when the client asked for one.

With connection state recovery on, ``ctx.state`` is the socket's saved data (written
through after the connection middleware and after each event), and with
``skip_middlewares`` a recovered socket is one continuous connection: a loss runs no hooks
and keeps the connection here (:class:`~.continuity.Continuity`), a recovery runs no
middleware, and the hooks run once, when the session ends for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import socketio

from sockd.worker.app_model.context import Context, Request, SocketHandle
from sockd.worker.app_model.continuity import Connection, Continuity
from sockd.worker.app_model.controller import Handler
from sockd.worker.app_model.disconnect_reason import engine_session_open, socketio_reason
from sockd.worker.app_model.middleware import Middleware, run_onion
from sockd.worker.app_model.router import SYSTEM_EVENTS
from sockd.worker.app_model.session import SessionReader
from sockd.worker.recovery.attempts import current_attempt
from sockd.worker.recovery.listeners import listen
from sockd.worker.recovery.manager import RecoveringManager

if TYPE_CHECKING:
    from sockd.worker.app_model.application import Application

log = logging.getLogger("sockd.app")

#: Connection middleware must accept or refuse within this time.
CONNECT_TIMEOUT = 30.0
#: The code after ``await next()`` in connection middleware gets this long at disconnect.
UNWIND_TIMEOUT = 10.0


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
        skip_middlewares: bool = True,
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
        self._skip_middlewares = skip_middlewares
        self.continuity = Continuity(self._connections, self._finish, self._context)

    def bind(self, server: socketio.AsyncServer) -> None:
        listen(server, self.namespace, self.continuity)
        server.on("connect", self.on_connect, namespace=self.namespace)
        server.on("disconnect", self.on_disconnect, namespace=self.namespace)
        server.on("*", self.on_event, namespace=self.namespace)

    # -- connect and disconnect -------------------------------------------

    def _recovery(self) -> RecoveringManager | None:
        manager = getattr(self.app.io.server, "manager", None)
        return manager if isinstance(manager, RecoveringManager) else None

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool | None:
        attempt = current_attempt(self.namespace)
        recovered = attempt is not None and attempt.recovered and attempt.sid == sid
        if recovered and self._skip_middlewares:
            await self.continuity.resume(sid, self._context(sid, environ, auth, {}))
            return True
        if sid in self._connections or sid in self._handshakes:
            # python-socketio hands a client's EVENT named "connect" to this handler too
            # (its environ is whatever the client sent); a handshake's sid is new.
            return None
        self._handshakes.add(sid)
        try:
            return await self._handshake(sid, environ, auth, recovered)
        finally:
            self._handshakes.discard(sid)

    def _context(self, sid: str, environ: dict[str, Any], auth: Any, state: Any) -> Context:
        request = Request.from_environ(environ)
        return Context(
            app=self.app,
            socket=SocketHandle(self.app.io.server, sid, self.namespace),
            request=request,
            session=self._sessions.read(request.headers.get("cookie"), request.address),
            state=state if isinstance(state, dict) else {},
            auth=auth,
        )

    async def _handshake(
        self, sid: str, environ: dict[str, Any], auth: Any, recovered: bool
    ) -> bool:
        server = self.app.io.server
        # With recovery on, the state is the socket's saved data, which recovery restores.
        state = await server.get_session(sid, self.namespace) if self._recovery() else {}
        ctx = self._context(sid, environ, auth, state)
        ctx.socket.recovered = recovered
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
        recovery = self._recovery()
        if self._skip_middlewares and recovery and recovery.is_loss(sid, self.namespace):
            self.continuity.hold(sid, connection)  # the client may come back: no hooks yet
            return
        reason = socketio_reason(reason, engine_session_open(server, sid, self.namespace))
        await self._finish(connection, reason, run_hooks=True)

    async def _finish(self, connection: Connection, reason: Any, run_hooks: bool) -> None:
        """The connection is over: its disconnect routes, then its middleware unwinds."""
        sid = connection.ctx.socket.id
        for event in ("disconnecting", "disconnect") if run_hooks else ():
            handler = self._routes.get(event)
            if handler is not None:
                ctx = connection.ctx.for_packet([event, reason])
                try:
                    await handler(ctx)
                except Exception:
                    log.exception("namespace %s event %s sid %s failed", self.namespace, event, sid)
        connection.closed.set()
        if connection.onion is None:  # recovered here: its middleware ran elsewhere
            return
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
        finally:
            recovery = self._recovery()
            if recovery is not None:  # ctx.state is the saved data: write it through
                recovery.data_changed(sid, self.namespace)
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
