"""Cluster-wide queries and commands for python-socketio apps that sockd serves.

Every call reaches the sockets of every worker: on this host over the master, and on
every host sharing Redis with ``--redis``. Each takes a ``timeout`` (seconds, 5 by
default) and returns what came, naming the workers that did not answer in time
(``result.missing``), answered with an error (``result.failures``) or whose answer was
cut at ``limit`` (``result.truncated``); ``result.complete`` says all is there. With
``strict=True`` an incomplete result raises :class:`IncompleteResult` instead (its
``result`` holds what came). Outside sockd, a server with python-socketio's in-memory
client manager is a cluster of one.

    sockets = await cluster.fetch_sockets(sio, room="lobby")
    for socket in sockets:
        print(socket.id, socket.handshake["address"], socket.data, socket.member)
        await socket.emit("hello")
    await cluster.sockets_join(sio, "vip", room="lobby")
    sizes = await cluster.room_sizes(sio)

    @cluster.on(sio, "reload-config")
    async def reload_config(version):
        return {"loaded": version}

    replies = await cluster.server_side_emit(sio, "reload-config", 42)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import socketio

from sockd.worker.cluster.attach import cluster_of
from sockd.worker.cluster.members import Failure, Member, Missing
from sockd.worker.cluster.payload import encode_args
from sockd.worker.cluster.pending import Collected
from sockd.worker.cluster.query import DEFAULT_LIMIT, Query
from sockd.worker.cluster.remote_socket import RemoteSocket
from sockd.worker.cluster.results import (
    Applied,
    ClusterBusy,
    ClusterError,
    ClusterUnavailable,
    Coverage,
    IncompleteResult,
    Replies,
    Reply,
    RoomSizes,
    SocketList,
    UnknownNamespace,
)
from sockd.worker.cluster.server_events import on, reply_of

__all__ = [
    "Applied",
    "ClusterBusy",
    "ClusterError",
    "ClusterUnavailable",
    "Failure",
    "IncompleteResult",
    "Member",
    "Missing",
    "RemoteSocket",
    "Replies",
    "Reply",
    "RoomSizes",
    "SocketList",
    "UnknownNamespace",
    "disconnect_sockets",
    "emit",
    "fetch_sockets",
    "on",
    "room_sizes",
    "server_side_emit",
    "sockets_join",
    "sockets_leave",
]

DEFAULT_TIMEOUT = 5.0

Rooms = str | Iterable[str] | None
R = TypeVar("R", bound=Coverage)


async def fetch_sockets(
    sio: socketio.AsyncServer,
    room: Rooms = None,
    namespace: str = "/",
    *,
    except_rooms: Rooms = None,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = DEFAULT_LIMIT,
    strict: bool = False,
) -> SocketList:
    """A handle for each socket in ``room`` (any of several rooms; None: every socket of
    the namespace), except those in ``except_rooms``, on every worker: at most ``limit``."""
    cluster = cluster_of(sio)
    query = Query("fetch", namespace, _rooms(room), _rooms(except_rooms), limit=_limit(limit))
    collected = await cluster.request(query, timeout)
    sockets = [RemoteSocket(cluster, member, record) for member, record in collected.items]
    return _checked(SocketList(sockets, collected), strict)


async def sockets_join(
    sio: socketio.AsyncServer,
    rooms: str | Iterable[str],
    room: Rooms = None,
    namespace: str = "/",
    *,
    except_rooms: Rooms = None,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = False,
) -> Applied:
    """The selected sockets, on every worker, join ``rooms``; ``count`` says how many."""
    args = {"rooms": list(_rooms(rooms))}
    return await _apply(sio, "join", args, room, namespace, except_rooms, timeout, strict)


async def sockets_leave(
    sio: socketio.AsyncServer,
    rooms: str | Iterable[str],
    room: Rooms = None,
    namespace: str = "/",
    *,
    except_rooms: Rooms = None,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = False,
) -> Applied:
    """The selected sockets, on every worker, leave ``rooms``."""
    args = {"rooms": list(_rooms(rooms))}
    return await _apply(sio, "leave", args, room, namespace, except_rooms, timeout, strict)


async def disconnect_sockets(
    sio: socketio.AsyncServer,
    room: Rooms = None,
    namespace: str = "/",
    close: bool = False,
    *,
    except_rooms: Rooms = None,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = False,
) -> Applied:
    """Disconnect the selected sockets from the namespace; ``close``: end their whole
    connection (every namespace), so the clients do not reconnect."""
    args = {"close": bool(close)}
    return await _apply(sio, "disconnect", args, room, namespace, except_rooms, timeout, strict)


async def emit(
    sio: socketio.AsyncServer,
    event: str,
    *args: Any,
    room: Rooms = None,
    namespace: str = "/",
    except_rooms: Rooms = None,
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = False,
) -> Applied:
    """Emit to the selected sockets of every worker, and say to how many it went: what
    ``sio.emit`` cannot do across workers when rooms are left out (``except_rooms``)."""
    encoded = {"event": event, "args": encode_args(args)}
    return await _apply(sio, "emit", encoded, room, namespace, except_rooms, timeout, strict)


async def server_side_emit(
    sio: socketio.AsyncServer,
    event: str,
    *args: Any,
    namespace: str = "/",
    timeout: float = DEFAULT_TIMEOUT,
    strict: bool = False,
) -> Replies:
    """Call the ``@cluster.on(sio, event)`` handler of every other worker: one
    :class:`Reply` each, with its return value, or the error it raised (or that it has
    no such handler), naming the worker."""
    query = Query("server_emit", namespace, args={"event": event, "args": encode_args(args)})
    collected = await cluster_of(sio).request(query, timeout, include_self=False)
    replies = [Reply(member, reply_of(value)) for member, value in collected.values]
    replies += [Reply(failure.member, error=failure.error) for failure in collected.failures]
    return _checked(Replies(replies, collected), strict)


async def room_sizes(
    sio: socketio.AsyncServer,
    namespace: str = "/",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    limit: int = DEFAULT_LIMIT,
    strict: bool = False,
) -> RoomSizes:
    """Room name to member count across the cluster (each socket's own room left out;
    a worker with more than ``limit`` rooms names its largest)."""
    query = Query("sizes", namespace, limit=_limit(limit))
    collected = await cluster_of(sio).request(query, timeout)
    sizes: dict[str, int] = {}
    for _member, found in collected.values:
        for name, size in found.items():
            sizes[name] = sizes.get(name, 0) + int(size)
    return _checked(RoomSizes(sizes, collected), strict)


async def _apply(
    sio: socketio.AsyncServer,
    op: str,
    args: dict[str, Any],
    room: Rooms,
    namespace: str,
    except_rooms: Rooms,
    timeout: float,
    strict: bool,
) -> Applied:
    query = Query(op, namespace, _rooms(room), _rooms(except_rooms), args=args)
    collected: Collected = await cluster_of(sio).request(query, timeout)
    return _checked(Applied(sum(int(value) for _, value in collected.values), collected), strict)


def _rooms(rooms: Rooms) -> tuple[str, ...]:
    if rooms is None:
        return ()
    names = (rooms,) if isinstance(rooms, str) else tuple(rooms)
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"rooms are named by strings, not {rooms!r}")
    return names


def _limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError("limit must be a positive integer")
    return limit


def _checked(result: R, strict: bool) -> R:
    if strict and not result.complete:
        raise IncompleteResult(result)
    return result
