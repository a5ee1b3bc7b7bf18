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

A worker near its descriptor limit says so on its channel (``worker_link.py``): its
slot is then skipped, not waited for, and its new clients go to the next slot in their
order until it says it takes connections again; what was already on its way comes back
and is routed again. ``--max-per-address`` is checked here, before any slot is chosen.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable

from sockd.counted_log import CountedLog
from sockd.supervisor.routing.address_limit import AddressLimit
from sockd.supervisor.routing.hashing import RendezvousHash
from sockd.supervisor.routing.slot_order import SlotOrder
from sockd.supervisor.routing.slot_route import PendingConnection, SlotRoute
from sockd.supervisor.routing.sticky_key import Route, by_address, peer_name
from sockd.supervisor.routing.worker_link import WorkerLink, open_link
from sockd.wire.handoff import Handoff
from sockd.wire.histogram import WAIT_BOUNDS, Histogram

log = logging.getLogger("sockd.master")


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
        per_address: AddressLimit | None = None,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._routes = {slot: SlotRoute() for slot in range(slots)}
        self._slots = list(self._routes)
        self._order = SlotOrder(sticky, hashing or RendezvousHash(), sessions)
        self._queue_timeout = queue_timeout
        self._queue_limit = queue_limit
        self._per_address = per_address
        #: Every worker's link, the current ones and those of workers still draining.
        self._links: set[WorkerLink] = set()
        self._counted = CountedLog(log)
        self.dropped = 0
        #: How long connections waited for their worker (0 for those handed over at once).
        self.waits = Histogram(WAIT_BOUNDS)

    # -- slots coming and going -------------------------------------------

    def slot_ready(self, slot: int, channel: socket.socket) -> None:
        """A worker in ``slot`` is ready: route to it (a new slot joins the hash) and flush."""
        route = self._routes.get(slot)
        if route is None:
            route = self._routes[slot] = SlotRoute()
            self._slots = sorted(self._routes)
        self._disarm(route)
        route.channel = channel
        route.full = False
        if route.link is None or route.link.channel is not channel:
            route.link = open_link(channel, slot, self, self._per_address)
            if route.link is not None:
                self._links.add(route.link)
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

    @property
    def refused_per_address(self) -> int:
        """Connections closed over ``--max-per-address``."""
        return self._per_address.refused if self._per_address is not None else 0

    def handed_off_by_slot(self) -> dict[int, int]:
        return {slot: route.handed_off for slot, route in self._routes.items()}

    def pending(self, slot: int) -> int:
        return len(self._routes[slot].queue)

    def queued(self) -> int:
        """Connections waiting for a worker, over every slot."""
        return sum(len(route.queue) for route in self._routes.values())

    # -- what workers say back (LinkEvents) ---------------------------------

    def worker_full(self, link: WorkerLink, limit: int) -> None:
        """The worker is near its descriptor limit: its slot's clients go to their next."""
        route = self._current(link)
        if route is None or route.full:
            return
        route.full = True
        self._disarm(route)
        self._counted.note(
            f"full {link.slot}",
            logging.WARNING,
            f"worker {link.slot} is at its descriptor limit ({limit}): its new clients go "
            "to the next worker",
            f"worker {link.slot} was at its descriptor limit ({limit}) {{count}} more times "
            "in the last {seconds}s",
        )
        self._move_waiting(route)

    def worker_open(self, link: WorkerLink) -> None:
        route = self._current(link)
        if route is None or not route.full:
            return
        route.full = False
        self._counted.note(
            f"open {link.slot}",
            logging.INFO,
            f"worker {link.slot} takes new connections again",
            f"worker {link.slot} took new connections again {{count}} more times in the "
            "last {seconds}s",
        )
        self._flush(link.slot)
        for other in self._routes.values():
            if other.full and other.queue:
                self._move_waiting(other)  # they waited while every slot was full

    def connection_returned(self, link: WorkerLink, fd: int, meta: Handoff) -> None:
        """A connection the worker could not take (it was on its way when it got full)."""
        self._route(fd, meta, by_address(meta.peer_host))

    def link_gone(self, link: WorkerLink) -> None:
        """The worker exited; its slot waits for the next one."""
        self._links.discard(link)
        route = self._current(link)
        if route is not None:
            route.link = None
            route.full = False

    def _move_waiting(self, route: SlotRoute) -> None:
        """Connections waiting for a full slot go on to the next that takes them, if any."""
        now = time.monotonic()
        waiting, route.queue = route.queue, deque()
        for pending in waiting:
            if not self._move_on(pending, now):
                route.queue.append(pending)  # nowhere else either: it waits, bounded

    def _current(self, link: WorkerLink) -> SlotRoute | None:
        """The slot's route if ``link`` is its current worker's (not a replaced one's)."""
        route = self._routes.get(link.slot)
        return route if route is not None and route.link is link else None

    # -- connections -------------------------------------------------------

    def dispatch(self, fd: int, meta: Handoff, key: Route | None = None) -> None:
        """Route a freshly accepted connection (the dispatcher now owns ``fd``).

        Without ``key``, the connection is keyed by its client address.
        """
        if self._per_address is not None and not self._per_address.admit(meta.peer_host):
            os.close(fd)
            return
        self._route(fd, meta, key or by_address(meta.peer_host))

    def _route(self, fd: int, meta: Handoff, key: Route) -> None:
        order = self._order.order(key, self._slots)
        route = self._routes[order[0]]
        if route.taking and not route.queue and self._send(order[0], route, fd, meta):
            self.waits.observe(0.0)
            return  # the common case: no bookkeeping beyond the send and its count
        now = time.monotonic()
        position = self._first_not_full(order)
        self._offer(PendingConnection(fd, meta, order, position, now + self._queue_timeout, now))

    def _first_not_full(self, order: list[int]) -> int:
        """The first slot of ``order`` that is not full (ready or not), or the first."""
        for position, slot in enumerate(order):
            route = self._routes.get(slot)
            if route is not None and not route.full:
                return position
        return 0

    def expire(self) -> None:
        """Move connections that waited too long to their next ready slot."""
        now = time.monotonic()
        for route in self._routes.values():
            while route.queue and route.queue[0].deadline <= now:
                self._fall_back(route.queue.popleft(), now)

    def close_all(self) -> None:
        """Drop every waiting connection and stop reading the workers (the master stops)."""
        for route in self._routes.values():
            self._disarm(route)
            while route.queue:
                os.close(route.queue.popleft().fd)
        for link in self._links:
            link.close()
        self._links.clear()

    def _offer(self, pending: PendingConnection) -> None:
        slot = pending.order[pending.position]
        route = self._routes[slot]
        if route.taking and not route.queue and self._send(slot, route, pending.fd, pending.meta):
            self.waits.observe(time.monotonic() - pending.since)
            return
        self._enqueue(pending)

    def _enqueue(self, pending: PendingConnection) -> None:
        slot = pending.order[pending.position]
        route = self._routes[slot]
        if len(route.queue) >= self._queue_limit:
            self._fall_back(pending, time.monotonic())
            return
        route.queue.append(pending)
        if route.taking:
            self._arm(slot, route)

    def _fall_back(self, pending: PendingConnection, now: float) -> None:
        if self._move_on(pending, now):
            return
        self.dropped += 1
        self._counted.note(
            "no worker",
            logging.WARNING,
            f"closing connection from {peer_name(pending.meta.peer_host)}: no worker could "
            f"take it within {self._queue_timeout:.1f}s",
            "closed {count} more connections no worker could take in the last {seconds}s",
        )
        os.close(pending.fd)

    def _move_on(self, pending: PendingConnection, now: float) -> bool:
        """Offer ``pending`` to the next slot in its order that takes connections."""
        for position in range(pending.position + 1, len(pending.order)):
            route = self._routes.get(pending.order[position])  # None: a removed slot
            if route is not None and route.taking and len(route.queue) < self._queue_limit:
                pending.position = position
                pending.deadline = now + self._queue_timeout
                self._offer(pending)
                return True
        return False

    def _send(self, slot: int, route: SlotRoute, fd: int, meta: Handoff) -> bool:
        """Hand one connection to the slot's worker; False if it could not take it now."""
        sent = route.hand_off(fd, meta)
        if sent is None:  # the worker died; its restart is ready later: keep it waiting
            self.slot_unavailable(slot)
        return bool(sent)

    def _flush(self, slot: int) -> None:
        route = self._routes[slot]
        while route.queue and route.taking:
            pending = route.queue[0]
            if not self._send(slot, route, pending.fd, pending.meta):
                if route.taking:
                    self._arm(slot, route)
                return
            route.queue.popleft()
            self.waits.observe(time.monotonic() - pending.since)
        self._disarm(route)

    def _arm(self, slot: int, route: SlotRoute) -> None:
        route.arm(self._loop, lambda: self._flush(slot))

    def _disarm(self, route: SlotRoute) -> None:
        route.disarm(self._loop)
