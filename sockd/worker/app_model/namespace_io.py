"""``app.io.of(ns)`` beyond routes: one namespace of the whole cluster, as egg-socket.io and
Node's ``io.of(ns)`` offer it, on sockd.cluster.

    nsp = app.io.of("/chat")
    await nsp.to("lobby").emit("news", {"text": "hi"})          # every worker's members
    await nsp.to("lobby").except_("muted").emit("news", item)  # some left out
    sockets = await nsp.in_("lobby").fetch_sockets()
    await nsp.in_("lobby").sockets_join("announcements")
    await nsp.in_("banned").disconnect_sockets(close=True)
    replies = await nsp.server_side_emit("reload", 42)

An emit with no room left out is python-socketio's own emit (crossing the bus as every
broadcast does); one that leaves rooms out is a cluster request, since each worker must
leave out its own members of those rooms. The calls take sockd.cluster's keywords
(``timeout``, ``limit``, ``strict``) and return its results.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sockd import cluster

log = logging.getLogger("sockd.app")


class BroadcastOperator:
    """A selection of the namespace's sockets: rooms (none: all), and rooms left out."""

    def __init__(
        self,
        server: Any,
        namespace: str,
        rooms: tuple[str, ...] = (),
        except_rooms: tuple[str, ...] = (),
    ) -> None:
        self.server = server
        self.namespace = namespace
        self.rooms = rooms
        self.except_rooms = except_rooms

    def to(self, room: str | list[str]) -> BroadcastOperator:
        """Also the sockets of ``room`` (the selection is the union of its rooms)."""
        return BroadcastOperator(
            self.server, self.namespace, self.rooms + _names(room), self.except_rooms
        )

    in_ = to

    def except_(self, room: str | list[str]) -> BroadcastOperator:
        """Leave out the sockets of ``room``."""
        return BroadcastOperator(
            self.server, self.namespace, self.rooms, self.except_rooms + _names(room)
        )

    async def emit(self, event: str, *args: Any, **options: Any) -> None:
        if not self.except_rooms:
            data = args[0] if len(args) == 1 else args
            to = list(self.rooms) or None
            await self.server.emit(event, data, to=to, namespace=self.namespace)
            return
        sent = await cluster.emit(self.server, event, *args, **self._selection(), **options)
        if not sent.complete:
            what = sent.shortfall()
            log.warning("namespace %s: emit %r incomplete: %s", self.namespace, event, what)

    async def fetch_sockets(self, **options: Any) -> cluster.SocketList:
        return await cluster.fetch_sockets(self.server, **self._selection(), **options)

    async def sockets_join(self, rooms: str | list[str], **options: Any) -> cluster.Applied:
        return await cluster.sockets_join(self.server, rooms, **self._selection(), **options)

    async def sockets_leave(self, rooms: str | list[str], **options: Any) -> cluster.Applied:
        return await cluster.sockets_leave(self.server, rooms, **self._selection(), **options)

    async def disconnect_sockets(self, close: bool = False, **options: Any) -> cluster.Applied:
        return await cluster.disconnect_sockets(
            self.server, close=close, **self._selection(), **options
        )

    def _selection(self) -> dict[str, Any]:
        return {
            "room": list(self.rooms) or None,
            "namespace": self.namespace,
            "except_rooms": list(self.except_rooms) or None,
        }


class NamespaceIO(BroadcastOperator):
    """The whole namespace: the selection of no room, and server-side events."""

    def __init__(self, server: Any, namespace: str) -> None:
        super().__init__(server, namespace)

    async def server_side_emit(self, event: str, *args: Any, **options: Any) -> cluster.Replies:
        """Every other worker's ``on(event)`` handler's reply."""
        return await cluster.server_side_emit(
            self.server, event, *args, namespace=self.namespace, **options
        )

    def on(self, event: str, handler: Callable[..., Any]) -> NamespaceIO:
        """Answer other workers' ``server_side_emit(event, *args)`` with ``handler(*args)``."""
        cluster.on(self.server, event, handler, namespace=self.namespace)
        return self


def _names(room: str | list[str]) -> tuple[str, ...]:
    return (room,) if isinstance(room, str) else tuple(room)
