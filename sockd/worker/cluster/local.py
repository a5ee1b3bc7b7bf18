"""Answering a request for this worker's own sockets: the same code for the worker that
asks (it answers for itself without the bus) and for every worker that is asked.

List answers are items already encoded as JSON, one text each, so that an answer can be
cut into bounded chunks and a socket's ``data`` is a snapshot, the same on every worker.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import socketio

from sockd.worker.cluster.handshake import handshake
from sockd.worker.cluster.payload import as_emit_data, decode_args
from sockd.worker.cluster.query import Query
from sockd.worker.protocol.namespaces import serves

#: A socket's ``data`` encoded larger than this is left out of its record (and flagged).
MAX_DATA = 64 * 1024
#: Items serialized between two yields to the event loop.
BATCH = 500
#: Rooms per namespace a census answer names at most (the largest first).
CENSUS_ROOMS = 1000


class OpError(Exception):
    """The answer is this error (its message goes to whoever asked)."""


@dataclass
class LocalAnswer:
    items: list[str] = field(default_factory=list)
    value: Any = None
    truncated: bool = False


Op = Callable[[socketio.AsyncServer, Query], Awaitable[LocalAnswer]]


def check_namespace(sio: socketio.AsyncServer, namespace: str) -> None:
    if not serves(sio, namespace):
        raise OpError(f"unknown namespace {namespace!r}")


def selected(sio: socketio.AsyncServer, query: Query) -> list[tuple[str, str]]:
    """(sid, Engine.IO sid) of this worker's sockets the query selects."""
    manager = sio.manager
    rooms: Any = list(query.rooms) if query.rooms else None
    chosen = dict(manager.get_participants(query.namespace, rooms))
    if query.except_rooms:
        for sid, _ in manager.get_participants(query.namespace, list(query.except_rooms)):
            chosen.pop(sid, None)
    return list(chosen.items())


def rooms_of(sio: socketio.AsyncServer, namespace: str) -> dict[str, list[str]]:
    """Each socket's rooms, in one pass over the namespace (the library's ``get_rooms``
    walks every room for each socket)."""
    by_sid: dict[str, list[str]] = {}
    for room, members in sio.manager.rooms.get(namespace, {}).items():
        if room is not None:
            for sid in members:
                by_sid.setdefault(sid, []).append(room)
    return by_sid


def session_data(sio: socketio.AsyncServer, eio_sid: str, namespace: str) -> Any:
    """What ``save_session`` holds for the socket (python-socketio keeps it in the
    Engine.IO session, by namespace)."""
    session = getattr(sio.eio.sockets.get(eio_sid), "session", None)
    return session.get(namespace, {}) if isinstance(session, dict) else {}


def socket_record(
    sio: socketio.AsyncServer, namespace: str, sid: str, eio_sid: str, rooms: list[str]
) -> str:
    """One socket as the requester's handle will show it, encoded."""
    data_text = json.dumps(session_data(sio, eio_sid, namespace), default=str)
    clipped = len(data_text) > MAX_DATA
    record = {
        "id": sid,
        "nsp": namespace,
        "rooms": rooms,
        "handshake": handshake(
            sio.environ.get(eio_sid, {}), getattr(sio.eio.sockets.get(eio_sid), "started_at", None)
        ),
        "data_clipped": clipped,
    }
    # The data goes in already encoded (first, so nothing else can look like it).
    data = "null" if clipped else data_text
    return '{"data": ' + data + ", " + json.dumps(record, default=str)[1:]


async def encoded(records: Iterable[Callable[[], str]], limit: int) -> LocalAnswer:
    """Make up to ``limit`` records, yielding to the loop between batches."""
    answer = LocalAnswer()
    for count, make in enumerate(records):
        if count >= limit:
            answer.truncated = True
            break
        if count and count % BATCH == 0:
            await asyncio.sleep(0)
        answer.items.append(make())
    return answer


async def fetch(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    check_namespace(sio, query.namespace)
    rooms = rooms_of(sio, query.namespace)
    ns = query.namespace
    makers = (
        lambda sid=sid, eio_sid=eio_sid: socket_record(sio, ns, sid, eio_sid, rooms.get(sid, []))
        for sid, eio_sid in selected(sio, query)
    )
    return await encoded(makers, query.limit)


def _room_names(query: Query) -> list[str]:
    rooms = query.args.get("rooms")
    if not isinstance(rooms, list) or not all(isinstance(room, str) for room in rooms):
        raise OpError("rooms must be a list of room names")
    return rooms


async def join(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    check_namespace(sio, query.namespace)
    names = _room_names(query)
    chosen = selected(sio, query)
    for sid, _ in chosen:
        for room in names:
            await sio.enter_room(sid, room, namespace=query.namespace)
    return LocalAnswer(value=len(chosen))


async def leave(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    check_namespace(sio, query.namespace)
    names = _room_names(query)
    chosen = selected(sio, query)
    for sid, _ in chosen:
        for room in names:
            await sio.leave_room(sid, room, namespace=query.namespace)
    return LocalAnswer(value=len(chosen))


async def disconnect(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    """Disconnect from the namespace; ``close``: end the whole connection, every namespace
    of it told first (as Node's ``disconnect(true)``), so clients do not reconnect."""
    check_namespace(sio, query.namespace)
    chosen = selected(sio, query)
    close = bool(query.args.get("close"))
    manager = sio.manager
    for sid, eio_sid in chosen:
        if not close:
            await sio.disconnect(sid, namespace=query.namespace, ignore_queue=True)
            continue
        for namespace in list(manager.get_namespaces()):
            other = manager.sid_from_eio_sid(eio_sid, namespace)
            if other is not None:
                await sio.disconnect(other, namespace=namespace, ignore_queue=True)
        await sio.eio.disconnect(eio_sid)
    return LocalAnswer(value=len(chosen))


async def emit(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    """An emit to the selected sockets (rooms, some left out: what python-socketio's own
    emit cannot select across workers)."""
    check_namespace(sio, query.namespace)
    event = query.args.get("event")
    if not isinstance(event, str):
        raise OpError("an emit needs an event name")
    try:
        args = decode_args(query.args.get("args"))
    except ValueError as exc:
        raise OpError(str(exc)) from None
    chosen = [sid for sid, _ in selected(sio, query)]
    if chosen:
        await sio.emit(
            event, as_emit_data(args), to=chosen, namespace=query.namespace, ignore_queue=True
        )
    return LocalAnswer(value=len(chosen))


def room_sizes(sio: socketio.AsyncServer, namespace: str) -> dict[str, int]:
    """Room name to size, each socket's own room left out."""
    rooms = sio.manager.rooms.get(namespace, {})
    everyone = rooms.get(None, {})
    return {
        room: len(members)
        for room, members in rooms.items()
        if room is not None and room not in everyone and members
    }


async def sizes(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    check_namespace(sio, query.namespace)
    found = room_sizes(sio, query.namespace)
    if len(found) <= query.limit:
        return LocalAnswer(value=found)
    largest = sorted(found.items(), key=lambda item: -item[1])[: query.limit]
    return LocalAnswer(value=dict(largest), truncated=True)


async def census(sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
    """Per namespace: sockets, and rooms with their sizes (the largest, bounded)."""
    declared = [*sio.handlers, *sio.namespace_handlers]
    if isinstance(sio.namespaces, list):
        declared += sio.namespaces
    namespaces = set(sio.manager.rooms) | {ns for ns in declared if ns != "*"}
    value: dict[str, Any] = {}
    for namespace in sorted(namespaces):
        found = room_sizes(sio, namespace)
        largest = sorted(found.items(), key=lambda item: -item[1])[:CENSUS_ROOMS]
        value[namespace] = {
            "sockets": len(sio.manager.rooms.get(namespace, {}).get(None, {})),
            "rooms": largest,
            "all_rooms": len(largest) == len(found),
        }
    return LocalAnswer(value=value)


OPS: dict[str, Op] = {
    "fetch": fetch,
    "join": join,
    "leave": leave,
    "disconnect": disconnect,
    "emit": emit,
    "sizes": sizes,
    "census": census,
}
