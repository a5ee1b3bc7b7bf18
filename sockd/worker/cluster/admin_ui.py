"""The socket.io Admin UI (python-socketio's ``sio.instrument()``) over the whole cluster.

An app instruments its server when it is imported, before the worker has composed sockd's
fixes into the server's classes and installed its bus. python-socketio's instrumentation
replaces methods on the objects of that moment (``sio._trigger_event``, ``eio._ok``, the
client manager's), so as it stands it would bypass sockd's fixes, and it is lost with the
client manager sockd replaces (the next connect fails on the missing ``_timestamps``).
So the worker takes the instrumentation off right after loading the app (the library's
own ``uninstrument``), and puts it back once the server is complete, as
:class:`ClusterAdmin`, python-socketio's class with what makes it cluster-wide:

- ``all_sockets``, sent to an admin client when it connects, lists every worker's
  sockets (each worker serializes its own, as the library does), as Node's admin server
  lists ``fetchSockets()``; events (``socket_connected``, ``room_joined``, ...) already
  reach admin clients on any worker, since they are emits on the admin namespace;
- the UI's join, leave and disconnect act on sockets of any worker (sockd.cluster);
- every worker reports ``server_stats`` from its start, under a server id of its own
  (``<host or the app's server_id>#<slot>``), so the UI lists each worker once.

Upstream change that would remove the re-instrumentation: instrumentation through hooks
(a manager or server subclass) rather than methods set on live objects, and a cluster-wide
listing in ``admin_connect``.
"""

from __future__ import annotations

import inspect
import json
import logging
from dataclasses import dataclass
from typing import Any

import socketio
from socketio.async_admin import HOSTNAME, InstrumentedAsyncServer
from socketio.exceptions import ConnectionRefusedError

from sockd import cluster as cluster_calls
from sockd.worker.cluster.local import LocalAnswer, encoded
from sockd.worker.cluster.query import Query
from sockd.worker.cluster.requester import Cluster
from sockd.worker.cluster.results import ClusterError

log = logging.getLogger("sockd.cluster")

#: How long gathering the cluster's sockets for a new admin client may take.
LISTING_TIMEOUT = 5.0
#: python-socketio's name mangling of the originals its instrumentation keeps.
_SAVED = "_InstrumentedAsyncServer__"


@dataclass(frozen=True)
class AdminSettings:
    """What the app passed to ``sio.instrument()``."""

    auth: Any
    namespace: str
    read_only: bool
    server_id: str | None
    mode: str
    server_stats_interval: float


def detach(sio: socketio.AsyncServer) -> AdminSettings | None:
    """Take the app's instrumentation off ``sio``, if it has one; its settings."""
    admin = getattr(sio.eio.__dict__.get("_ok"), "__self__", None)
    if not isinstance(admin, InstrumentedAsyncServer):
        return None
    admin.uninstrument()
    # The undo leaves the originals it restored as attributes of the objects: drop them,
    # so the classes' methods (sockd's fixes among them) are what runs.
    for owner, name in ((sio, "_trigger_event"), (sio.eio, "_ok")):
        if owner.__dict__.get(name) is owner.__dict__.get(_SAVED + name[1:]):
            owner.__dict__.pop(name, None)
        owner.__dict__.pop(_SAVED + name[1:], None)
    default_id = admin.server_id == HOSTNAME
    return AdminSettings(
        admin.auth,
        admin.admin_namespace,
        admin.read_only,
        None if default_id else admin.server_id,
        admin.mode,
        admin.server_stats_interval,
    )


def attach(
    sio: socketio.AsyncServer, settings: AdminSettings, cluster: Cluster | None
) -> InstrumentedAsyncServer:
    """Instrument ``sio`` again now that it is complete: cluster-wide, or (``cluster`` is
    None: the app brings its own client manager) as the library does."""
    if cluster is None:
        return InstrumentedAsyncServer(
            sio,
            auth=settings.auth,
            namespace=settings.namespace,
            read_only=settings.read_only,
            server_id=settings.server_id,
            mode=settings.mode,
            server_stats_interval=settings.server_stats_interval,
        )
    admin = ClusterAdmin(sio, settings, cluster)
    cluster.ops["admin_sockets"] = admin.local_sockets
    return admin


class ClusterAdmin(InstrumentedAsyncServer):  # type: ignore[misc]
    def __init__(self, sio: socketio.AsyncServer, settings: AdminSettings, cluster: Cluster):
        base = settings.server_id or HOSTNAME
        worker = cluster.me.slot if cluster.me.slot is not None else cluster.me.pid
        super().__init__(
            sio,
            auth=settings.auth,
            namespace=settings.namespace,
            read_only=settings.read_only,
            server_id=f"{base}#{worker}",
            mode=settings.mode,
            server_stats_interval=settings.server_stats_interval,
        )
        self.cluster = cluster
        # Every worker in the UI's server list from the start, not at its first client.
        self.stop_stats_event = sio.eio.create_event()
        self.stats_task = sio.start_background_task(self._emit_server_stats)

    async def admin_connect(self, sid: str, environ: dict[str, Any], client_auth: Any) -> None:
        if not await self._authenticated(client_auth):
            raise ConnectionRefusedError("authentication failed")
        self.sio.start_background_task(self._send_config, sid)

    async def _authenticated(self, client_auth: Any) -> bool:
        """python-socketio's documented rule: the credentials, one of a list of them, or
        what a (sync or async) callable says; no auth configured admits anyone."""
        if not self.auth:
            return True
        if isinstance(self.auth, dict):
            return bool(client_auth == self.auth)
        if isinstance(self.auth, list):
            return client_auth in self.auth
        verdict = self.auth(client_auth)
        return bool(await verdict if inspect.isawaitable(verdict) else verdict)

    async def _send_config(self, sid: str) -> None:
        features = ["AGGREGATED_EVENTS"]
        if not self.read_only:
            features += ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]
        if self.mode == "development":
            features.append("ALL_EVENTS")
        namespace = self.admin_namespace
        await self.sio.emit("config", {"supportedFeatures": features}, to=sid, namespace=namespace)
        if self.mode != "development":
            return
        try:
            listing = await self.cluster.request(Query("admin_sockets", namespace), LISTING_TIMEOUT)
        except ClusterError as exc:
            log.warning("admin UI: no socket listing for %s: %s", sid, exc)
            return
        if listing.missing or listing.failures:
            log.warning("admin UI: the socket listing lacks %s", listing.missing + listing.failures)
        sockets = [item for _member, item in listing.items]
        await self.sio.emit("all_sockets", sockets, to=sid, namespace=namespace)

    async def local_sockets(self, sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
        """This worker's sockets, as the Admin UI shows them (the library's serializer)."""
        manager = sio.manager
        makers = (
            lambda sid=sid, namespace=namespace, eio_sid=eio_sid: json.dumps(
                self.serialize_socket(sid, namespace, eio_sid), default=str
            )
            for namespace in list(manager.get_namespaces())
            for sid, eio_sid in manager.get_participants(namespace, None)
        )
        return await encoded(makers, query.limit)

    async def admin_enter_room(
        self, _: str, namespace: str, room: str, room_filter: str | None = None
    ) -> None:
        await cluster_calls.sockets_join(self.sio, room, room=room_filter, namespace=namespace)

    async def admin_leave_room(
        self, _: str, namespace: str, room: str, room_filter: str | None = None
    ) -> None:
        await cluster_calls.sockets_leave(self.sio, room, room=room_filter, namespace=namespace)

    async def admin_disconnect(
        self, _: str, namespace: str, close: bool, room_filter: str | None = None
    ) -> None:
        await cluster_calls.disconnect_sockets(
            self.sio, room=room_filter, namespace=namespace, close=bool(close)
        )
