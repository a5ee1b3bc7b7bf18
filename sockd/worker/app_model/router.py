"""``app.io``: the router of events to controllers, per namespace."""

from __future__ import annotations

import inspect
from typing import Any

from sockd.worker.app_model.controller import Handler
from sockd.worker.app_model.loader import AppCodeError, ControllerGroup
from sockd.worker.app_model.namespace_io import NamespaceIO

#: Events a controller may be routed to that the client does not send.
SYSTEM_EVENTS = ("disconnecting", "disconnect", "error")


class NamespaceRouter(NamespaceIO):
    """``app.io.of("/ns")``: the routes of one namespace, and the namespace cluster-wide
    (namespace_io.py)."""

    def __init__(self, name: str, server: Any = None) -> None:
        super().__init__(server, name)
        self.name = name
        self.routes: dict[str, Handler] = {}

    def route(self, event: str, handler: Handler) -> NamespaceRouter:
        if event in self.routes:
            raise AppCodeError(f"duplicate route: event {event!r} in namespace {self.name!r}")
        if not callable(handler) or not inspect.iscoroutinefunction(handler):
            raise AppCodeError(
                f"route {event!r} in namespace {self.name!r}: the handler must be an "
                f"async def (ctx) or a Controller method, not {handler!r}"
            )
        self.routes[event] = handler
        return self


class IO:
    """``app.io``: controllers, routes, and the Socket.IO server."""

    def __init__(self, controller: ControllerGroup, server: Any) -> None:
        self.controller = controller
        #: The ``socketio.AsyncServer``, for what the model does not cover.
        self.server = server
        self.namespaces: dict[str, NamespaceRouter] = {}

    def of(self, namespace: str) -> NamespaceRouter:
        if not namespace.startswith("/"):
            raise AppCodeError(f'namespace {namespace!r} must start with "/"')
        if namespace not in self.namespaces:
            self.namespaces[namespace] = NamespaceRouter(namespace, self.server)
        return self.namespaces[namespace]

    def route(self, event: str, handler: Handler) -> NamespaceRouter:
        """Route ``event`` of the default namespace ``/``."""
        return self.of("/").route(event, handler)
