"""The client manager's side of recovery: stored packets go through the store, sessions are
written through to it, and a CONNECT that names a session is put back in its place.

A stored packet (an EVENT without callback, Node's rule) is not delivered where it is
emitted: the store numbers it and every worker, this one included, delivers it when it
comes back (:meth:`RecoveringManager.deliver_stored`), in the store's one order. Each
recoverable socket is *tracked* (its private id, and the data last written through) from
its CONNECT reply until it leaves; room changes and saved data of tracked sockets are
written through, and its disconnect is a loss (the client may come back) or an end.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import socketio
from socketio import packet

from sockd.worker.app_model.disconnect_reason import socketio_reason
from sockd.worker.protocol.closing import end_session
from sockd.worker.recovery.attempts import Attempt, current_attempt, loss_reason, new_pid
from sockd.worker.recovery.delivery import NumberedDelivery, Order, Packets
from sockd.worker.recovery.listeners import listener_for
from sockd.worker.recovery.store import Restored, Store

log = logging.getLogger("sockd.recovery")

#: Whether python-socketio registers a socket in ``pre_connect`` (5.17+; 5.16 in ``connect``).
PRE_CONNECT = hasattr(socketio.AsyncManager, "pre_connect")
#: Room names a stored packet's targeting can carry through JSON unchanged.
ROOM_TYPES = (str, int)
#: Sessions being ended for a takeover (tasks need a reference until done).
_closing: set[asyncio.Task[None]] = set()


@dataclass
class Tracked:
    pid: str
    #: The data as last written through (JSON), so unchanged data is not sent again.
    data: str


class RecoveringManager(NumberedDelivery):
    """Mixed in front of a bus manager; :meth:`use_store` turns it on."""

    store: Store
    #: Whether a store is in use (recovery is on).
    recovers = False

    def use_store(self, store: Store) -> None:
        self.store = store
        self.recovers = True
        self.setup_delivery()
        self._tracked: dict[tuple[str, str], Tracked] = {}
        self._unstorable_logged = False

    # -- stored packets ----------------------------------------------------------------

    async def emit(  # type: ignore[override]
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        namespace = namespace or "/"
        stored = callback is None and not kwargs.get("ignore_queue")
        if stored and await self._sequence(event, data, namespace, to or room, skip_sid):
            return
        await super().emit(
            event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to,
            **kwargs,
        )  # fmt: skip

    async def _sequence(self, event: str, data: Any, namespace: str, room: Any, skip: Any) -> bool:
        rooms = None if room is None else list(room) if isinstance(room, list | tuple) else [room]
        excluded = [] if skip is None else list(skip) if isinstance(skip, list) else [skip]
        if not all(isinstance(r, ROOM_TYPES) for r in (*(rooms or ()), *excluded)):
            if not self._unstorable_logged:
                log.warning("recovery: rooms other than str and int are not stored (%r)", room)
                self._unstorable_logged = True
            return False
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        pkt = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args])
        encoded = pkt.encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        await self.store.sequence(namespace, rooms, excluded, parts[0], parts[1:])
        return True

    # -- sessions ------------------------------------------------------------------------

    async def restore(self, eio_sid: str, attempt: Attempt) -> None:
        """Put back the session ``attempt`` claims, if the store still has it for this
        client (then the attempt is marked recovered and carries the socket id)."""
        claim, namespace = attempt.claim, attempt.namespace
        if claim is None or self.sid_from_eio_sid(eio_sid, namespace) is not None:
            return  # no claim, or a second CONNECT (python-socketio refuses it)
        await self.store.restore(
            claim.pid, namespace, claim.offset, _PutBack(self, eio_sid, attempt)
        )

    def register_restored(self, eio_sid: str, attempt: Attempt, restored: Restored) -> str | None:
        """Register the restored socket with its rooms and data, its live packets held."""
        assert attempt.claim is not None
        namespace, socket = attempt.namespace, self.server.eio.sockets.get(eio_sid)
        if socket is None or socket.closed or self.sid_from_eio_sid(eio_sid, namespace):
            self.store.lost(attempt.claim.pid, "transport close")  # gone meanwhile
            return None
        sid = restored.sid
        if self.eio_sid_from_sid(sid, namespace) is not None:  # an older transport holds it
            self.drop_silently(namespace, sid)
        self.basic_enter_room(sid, namespace, None, eio_sid=eio_sid)
        self.basic_enter_room(sid, namespace, sid, eio_sid=eio_sid)
        if PRE_CONNECT:  # the library's pre-connected state, until its CONNECT reply
            self.pending_connect.setdefault(namespace, []).append(sid)
        for room in restored.rooms:
            if room != sid and isinstance(room, ROOM_TYPES):
                self.basic_enter_room(sid, namespace, room)
        if isinstance(restored.data, dict):
            socket.session[namespace] = restored.data
        self.start_restoring(namespace, sid)
        attempt.pid, attempt.sid, attempt.recovered = attempt.claim.pid, sid, True
        self._tracked[(namespace, sid)] = Tracked(attempt.pid, _snapshot(restored.data)[1])
        return sid

    async def pre_connect(self, eio_sid: str, namespace: str) -> str | None:
        registered = self._registering(namespace)
        return registered or await super().pre_connect(eio_sid, namespace)  # type: ignore[no-any-return]

    async def connect(self, sid: str, namespace: str) -> Any:
        if not PRE_CONNECT:  # python-socketio 5.16 registers here, with the Engine.IO sid
            registered = self._registering(namespace)
            if registered is not None:
                return registered
        return await super().connect(sid, namespace)

    def _registering(self, namespace: str) -> str | None:
        """The socket id of a CONNECT the library registers now: the restored one, or None
        for a new socket (whose session starts here: it joins its rooms right now)."""
        attempt = current_attempt(namespace)
        if attempt is None:
            return None
        if attempt.recovered:
            return attempt.sid
        attempt.start = self.store.position
        return None

    def connected(self, sid: str, namespace: str, attempt: Attempt) -> None:
        """The CONNECT reply leaves: a new session goes to the store."""
        if (namespace, sid) in self._tracked:
            return
        data, encoded = self._data(sid, namespace)
        rooms = [room for room in self.get_rooms(sid, namespace) if room is not None]
        self.store.opened(attempt.pid, sid, namespace, rooms, data, attempt.start)
        self._tracked[(namespace, sid)] = Tracked(attempt.pid, encoded)

    def data_changed(self, sid: str, namespace: str) -> None:
        """Write the socket's saved data through if it changed since it was last."""
        tracked = self._tracked.get((namespace, sid))
        if tracked is None:
            return
        data, encoded = self._data(sid, namespace)
        if encoded != tracked.data:
            tracked.data = encoded
            self.store.saved(tracked.pid, data)

    def tracks(self, sid: str, namespace: str) -> bool:
        return (namespace, sid) in self._tracked

    def is_loss(self, sid: str, namespace: str) -> bool:
        """Whether the disconnect of tracked socket ``sid`` under way is a recoverable loss."""
        eio_sid = self.eio_sid_from_sid(sid, namespace)
        return self.tracks(sid, namespace) and loss_reason(eio_sid) is not None

    def _data(self, sid: str, namespace: str) -> tuple[Any, str]:
        """The socket's saved data as JSON can carry it, and its encoding."""
        eio_sid = self.eio_sid_from_sid(sid, namespace)
        socket = self.server.eio.sockets.get(eio_sid) if eio_sid is not None else None
        return _snapshot(socket.session.get(namespace, {}) if socket is not None else {})

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        tracked = self._tracked.get((namespace, sid)) if room is not None else None
        if tracked is not None and room != sid:
            self.store.joined(tracked.pid, room)

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)
        tracked = self._tracked.get((namespace, sid)) if room is not None else None
        if tracked is not None and room != sid:
            self.store.left(tracked.pid, room)

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        self.forget_restoring(namespace, sid)
        tracked = self._tracked.pop((namespace, sid), None)
        if tracked is not None:
            reason = loss_reason(self.eio_sid_from_sid(sid, namespace))
            if reason is None:
                self.store.ended(tracked.pid)
            else:
                self.store.lost(tracked.pid, str(socketio_reason(reason, engine_open=False)))
        super().basic_disconnect(sid, namespace, **kwargs)

    def unregister(self, namespace: str, sid: str) -> None:
        """Undo a restored socket's registration (no notes: the store keeps the session)."""
        self._tracked.pop((namespace, sid), None)
        self.basic_disconnect(sid, namespace)
        if PRE_CONNECT and sid in self.pending_connect.get(namespace, []):
            self.pending_connect[namespace].remove(sid)

    def drop_silently(self, namespace: str, sid: str) -> None:
        """The session went on elsewhere: forget its socket here without disconnect events
        or store notes, and close its Engine.IO session if nothing else uses it."""
        eio_sid = self.eio_sid_from_sid(sid, namespace)
        self._tracked.pop((namespace, sid), None)
        self.basic_disconnect(sid, namespace)
        if eio_sid is None or not self.server.eio.sockets.get(eio_sid):
            return
        if not any(self.sid_from_eio_sid(eio_sid, ns) for ns in list(self.get_namespaces())):
            task = asyncio.ensure_future(end_session(self.server.eio, eio_sid))
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    # -- orders and notices from the store --------------------------------------------------

    def moved(self, namespace: str, sid: str) -> None:
        """Session ``sid`` was restored on another worker."""
        if self.eio_sid_from_sid(sid, namespace) is not None:
            self.drop_silently(namespace, sid)
        listener = listener_for(self.server, namespace)
        if listener is not None:
            listener.moved(sid)

    def session_ended(self, notice: dict[str, Any]) -> None:
        """A lost session expired (or was refused), or ended elsewhere: tell the app."""
        listener = listener_for(self.server, notice.get("namespace", ""))
        if listener is not None:
            listener.ended(
                notice["sid"], notice.get("reason") or "transport close",
                notice.get("rooms") or [], notice.get("data"), bool(notice.get("hooks")),
            )  # fmt: skip


def _snapshot(data: Any) -> tuple[Any, str]:
    """``data`` as JSON can carry it (a dict keeps the items JSON can carry), and its text."""
    try:
        return data, _encoded(data)
    except (TypeError, ValueError):
        kept = {}
        for key, value in data.items() if isinstance(data, dict) else ():
            try:
                _encoded({key: value})
            except (TypeError, ValueError):
                continue
            kept[key] = value
        return kept, _encoded(kept)


def _encoded(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class _PutBack:
    """One CONNECT's restore, as the store drives it (:class:`~.store.PutBack`)."""

    def __init__(self, manager: RecoveringManager, eio_sid: str, attempt: Attempt) -> None:
        self._manager = manager
        self._eio_sid = eio_sid
        self._attempt = attempt

    def register(self, restored: Restored) -> str | None:
        return self._manager.register_restored(self._eio_sid, self._attempt, restored)

    def finish(self, missed: list[Packets], position: Order | None) -> bool:
        sid = self._attempt.sid
        assert sid is not None
        return self._manager.finish_restoring(self._attempt.namespace, sid, missed, position)

    def abandon(self) -> None:
        attempt, sid = self._attempt, self._attempt.sid
        if attempt.recovered and sid is not None:
            self._manager.unregister(attempt.namespace, sid)
        attempt.recovered, attempt.sid, attempt.pid = False, None, new_pid()
