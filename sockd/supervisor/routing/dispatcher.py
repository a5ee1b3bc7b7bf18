"""Routing accepted connections to slots: hand-off, pending queues, fallback.

Nothing here blocks. A slot whose worker is ready and whose channel has room
gets the fd at once; otherwise the connection waits in the slot's bounded
queue until the worker is ready and the channel is writable again (writer
readiness), or until its wait bound passes, when it falls back to the next
ready slot in the client's rendezvous order.

Slots can be added and removed while serving: a new slot joins the hash once its
first worker is ready (so nobody waits for it), and a removed slot's waiting
connections move on to their next slot. Rendezvous hashing moves only the keys
the added or removed slot wins (about 1/N).
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from sockd.supervisor.routing.hashing import RendezvousHash
from sockd.supervisor.routing.least_loaded import LeastLoaded
from sockd.supervisor.routing.sticky_key import Route, by_address, peer_name
from sockd.wire.handoff import Handoff, send_handoff

log = logging.getLogger("sockd.master")


@dataclass
class PendingConnection:
    #: The accepted connection; the dispatcher owns it until it is handed off or closed.
    fd: int
    meta: Handoff
    #: Slots to try, the client's own first.
    order: list[int]
    position: int
    deadline: float


@dataclass
class SlotRoute:
    """The master's view of one slot's path to its worker."""

    channel: socket.socket | None = None
    queue: deque[PendingConnection] = field(default_factory=deque)
    writer_armed: bool = False
    #: Connections handed to this slot's workers since the master started.
    handed_off: int = 0


class Dispatcher:
    def __init__(
        self,
        slots: int,
        *,
        sticky: bool,
        queue_timeout: float,
        queue_limit: int,
        hashing: RendezvousHash | None = None,
        sessions: Callable[[int], int] = lambda slot: 0,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._routes = {slot: SlotRoute() for slot in range(slots)}
        self._slots = list(self._routes)
        self._sticky = sticky
        self._queue_timeout = queue_timeout
        self._queue_limit = queue_limit
        self._hashing = hashing or RendezvousHash()
        self._round_robin = itertools.count()
        self._least_loaded = LeastLoaded(sessions)
        self.dropped = 0

    # -- slots coming and going -------------------------------------------

    def slot_ready(self, slot: int, channel: socket.socket) -> None:
        """A worker in ``slot`` is ready: route to it (a new slot joins the hash) and flush."""
        route = self._routes.get(slot)
        if route is None:
            route = self._routes[slot] = SlotRoute()
            self._slots = sorted(self._routes)
        self._disarm(route)
        route.channel = channel
        self._flush(slot)

    def remove_slot(self, slot: int) -> None:
        """Take ``slot`` out of the hash; its waiting connections move to their next slot."""
        route = self._routes.pop(slot, None)
        if route is None:
            return  # added and removed before its first worker was ready
        self._slots = sorted(self._routes)
        self._disarm(route)
        now = time.monotonic()
        while route.queue:
            self._fall_back(route.queue.popleft(), now)

    def slot_unavailable(self, slot: int) -> None:
        """The slot's worker stopped taking connections; new ones wait in the queue.

        A slot added while serving has no route until its first worker is ready.
        """
        route = self._routes.get(slot)
        if route is None:
            return
        self._disarm(route)
        route.channel = None

    def handed_off_by_slot(self) -> dict[int, int]:
        return {slot: route.handed_off for slot, route in self._routes.items()}

    def pending(self, slot: int) -> int:
        return len(self._routes[slot].queue)

    def queued(self) -> int:
        """Connections waiting for a worker, over every slot."""
        return sum(len(route.queue) for route in self._routes.values())

    # -- connections -------------------------------------------------------

    def dispatch(self, fd: int, meta: Handoff, key: Route | None = None) -> None:
        """Route a freshly accepted connection (the dispatcher now owns ``fd``).

        Without ``key``, the connection is keyed by its client address.
        """
        order = self._order(key or by_address(meta.peer_host))
        route = self._routes[order[0]]
        if route.channel is not None and not route.queue and self._send(order[0], route, fd, meta):
            return  # the common case: no bookkeeping beyond the send
        deadline = time.monotonic() + self._queue_timeout
        self._enqueue(PendingConnection(fd, meta, order, 0, deadline))

    def _order(self, key: Route) -> list[int]:
        """Slots to try, best first: the session's owner, the key's slot, or the least loaded."""
        slots = self._slots
        if not self._sticky:
            start = next(self._round_robin) % len(slots)
            return slots[start:] + slots[:start]
        if key.key is not None:
            return self._hashing.order(key.key, slots)
        if key.owner is not None and key.owner in self._routes:
            return [key.owner, *(slot for slot in slots if slot != key.owner)]
        return self._least_loaded.order(slots)

    def expire(self) -> None:
        """Move connections that waited too long to their next ready slot."""
        now = time.monotonic()
        for route in self._routes.values():
            while route.queue and route.queue[0].deadline <= now:
                self._fall_back(route.queue.popleft(), now)

    def close_all(self) -> None:
        """Drop every waiting connection (the master is stopping)."""
        for route in self._routes.values():
            self._disarm(route)
            while route.queue:
                os.close(route.queue.popleft().fd)

    def _offer(self, pending: PendingConnection) -> None:
        slot = pending.order[pending.position]
        route = self._routes[slot]
        if (
            route.channel is not None
            and not route.queue
            and self._send(slot, route, pending.fd, pending.meta)
        ):
            return
        self._enqueue(pending)

    def _enqueue(self, pending: PendingConnection) -> None:
        slot = pending.order[pending.position]
        route = self._routes[slot]
        if len(route.queue) >= self._queue_limit:
            self._fall_back(pending, time.monotonic())
            return
        route.queue.append(pending)
        if route.channel is not None:
            self._arm(slot, route)

    def _fall_back(self, pending: PendingConnection, now: float) -> None:
        for position in range(pending.position + 1, len(pending.order)):
            route = self._routes.get(pending.order[position])  # None: a removed slot
            if (
                route is not None
                and route.channel is not None
                and len(route.queue) < self._queue_limit
            ):
                pending.position = position
                pending.deadline = now + self._queue_timeout
                self._offer(pending)
                return
        self.dropped += 1
        log.warning(
            "closing connection from %s: no worker could take it within %.1fs",
            peer_name(pending.meta.peer_host),
            self._queue_timeout,
        )
        os.close(pending.fd)

    def _send(self, slot: int, route: SlotRoute, fd: int, meta: Handoff) -> bool:
        """Hand one connection to the slot's worker; False if the channel is full."""
        assert route.channel is not None
        try:
            send_handoff(route.channel, fd, meta)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.EBADF):
                raise
            # The worker died; the reaper will restart it. Keep the connection waiting.
            self.slot_unavailable(slot)
            return False
        os.close(fd)  # the worker holds its own copy now
        route.handed_off += 1
        return True

    def _flush(self, slot: int) -> None:
        route = self._routes[slot]
        while route.queue and route.channel is not None:
            pending = route.queue[0]
            if not self._send(slot, route, pending.fd, pending.meta):
                if route.channel is not None:
                    self._arm(slot, route)
                return
            route.queue.popleft()
        self._disarm(route)

    def _arm(self, slot: int, route: SlotRoute) -> None:
        if not route.writer_armed and route.channel is not None:
            self._loop.add_writer(route.channel.fileno(), self._flush, slot)
            route.writer_armed = True

    def _disarm(self, route: SlotRoute) -> None:
        if route.writer_armed and route.channel is not None:
            self._loop.remove_writer(route.channel.fileno())
        route.writer_armed = False
