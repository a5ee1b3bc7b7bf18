"""A recovered socket as one continuous connection (``[io.recovery] skip_middlewares``).

When a socket's transport is lost and the client may come back, its connection (``ctx``,
its state, its connection middleware waiting in ``await next()``) is held here instead of
ending. If the client recovers on this worker it gets the same connection back; if it
recovers on another, that worker makes a new one without running the middleware (its
``ctx.state`` is the saved data), and this one forgets it, but the worker where the
connection started keeps its middleware waiting. When the session ends for good (a real
disconnect, or the recovery window running out), the disconnect routes run once, where the
store says, and the middleware unwinds where it started, if that worker still runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sockd.worker.app_model.context import Context


@dataclass
class Connection:
    ctx: Context
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    #: The connection middleware, waiting in ``await next()`` (None where it did not run).
    onion: asyncio.Task[Any] | None = None

    @property
    def waiting(self) -> bool:
        return self.onion is not None and not self.onion.done()


#: Ends a connection: its disconnect routes (unless the flag is False), then its onion.
Finish = Callable[[Connection, Any, bool], Awaitable[None]]
#: A context for socket ``sid`` from a handshake's environ, auth and state.
MakeContext = Callable[[str, dict[str, Any], Any, Any], Context]


class Continuity:
    """One namespace's connections across losses and recoveries."""

    def __init__(
        self, connections: dict[str, Connection], finish: Finish, context: MakeContext
    ) -> None:
        self._connections = connections
        self._finish = finish
        self._context = context
        #: Lost here; the client may come back.
        self._held: dict[str, Connection] = {}
        #: Went on elsewhere; their middleware, started here, waits for the end.
        self._orphans: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def hold(self, sid: str, connection: Connection) -> None:
        self._held[sid] = connection

    async def resume(self, sid: str, fresh: Context) -> None:
        """Socket ``sid`` was recovered on this worker: its connection goes on."""
        server, namespace = fresh.socket.server, fresh.socket.namespace
        connection = (
            self._connections.get(sid) or self._held.pop(sid, None) or self._orphans.pop(sid, None)
        )
        if connection is None:
            fresh.state = await server.get_session(sid, namespace=namespace)  # the restored data
            connection = Connection(fresh)
        else:  # the live state is at least as new as what the store kept
            await server.save_session(sid, connection.ctx.state, namespace=namespace)
        connection.ctx.socket.recovered = True
        self._connections[sid] = connection

    def moved(self, sid: str) -> None:
        connection = self._held.pop(sid, None) or self._connections.pop(sid, None)
        if connection is not None and connection.waiting:
            self._orphans[sid] = connection

    def ended(self, sid: str, reason: str, rooms: list[Any], data: Any, run_hooks: bool) -> None:
        connection = self._held.pop(sid, None) or self._orphans.pop(sid, None)
        if connection is None and run_hooks:
            connection = self._connections.pop(sid, None)
        if connection is None:
            if not run_hooks:
                return
            connection = Connection(self._context(sid, {}, None, data))
        connection.ctx.socket.final_rooms = rooms
        task = asyncio.ensure_future(self._finish(connection, reason, run_hooks))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
