"""The accept loop: non-blocking accepts on every listener, with fd-exhaustion backoff.

Accepting can be paused and resumed without closing the listeners: a master handing
over to its successor (SIGUSR2) stops accepting while the successor starts to, and the
connections that arrive meanwhile wait in the listen backlog they share.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

from sockd.supervisor.routing.keys import KeyResolver
from sockd.supervisor.routing.sticky_key import client_address
from sockd.wire.handoff import Handoff

log = logging.getLogger("sockd.master")

#: Accepts per readiness callback, so one busy listener cannot starve the loop.
ACCEPT_BATCH = 64
#: Pause after the process or system ran out of descriptors, instead of spinning.
EXHAUSTION_PAUSE = 0.5
_EXHAUSTION = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class Acceptor:
    """Accepts and hands each connection to the key-resolution stage, which then owns it."""

    def __init__(self, listeners: list[socket.socket], keys: KeyResolver) -> None:
        self._loop = asyncio.get_running_loop()
        self._listeners = listeners
        self._keys = keys
        #: Listeners backing off after running out of descriptors.
        self._backing_off: set[int] = set()
        self._accepting = False
        self.accepted = 0

    @property
    def pending(self) -> int:
        """Accepted connections whose sticky key is still being read."""
        return self._keys.pending

    def start(self) -> None:
        """Accept on every listener (again, after :meth:`pause`)."""
        if self._accepting:
            return
        self._accepting = True
        for listener in self._listeners:
            if listener.fileno() not in self._backing_off:
                self._loop.add_reader(listener.fileno(), self._accept, listener)

    def pause(self) -> None:
        """Stop accepting; the listeners stay open and their backlogs fill."""
        if not self._accepting:
            return
        self._accepting = False
        for listener in self._listeners:
            if listener.fileno() not in self._backing_off:
                self._loop.remove_reader(listener.fileno())

    def close(self) -> None:
        """Stop accepting, close the listeners and the connections still in a peek."""
        self.pause()
        self._keys.close()
        for listener in self._listeners:
            listener.close()
        self._listeners = []

    def _accept(self, listener: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                # The raw fd, without building a socket object the master would
                # only close again after the hand-off. TCP_NODELAY is inherited
                # from the listener (see listeners.py).
                fd, peer = listener._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _EXHAUSTION:
                    self._back_off(listener, exc)
                    return
                # ECONNABORTED and friends: that client gave up; take the next one.
                continue
            self.accepted += 1
            host, port = client_address(peer)
            self._keys.resolve(fd, Handoff(host, port))

    def _back_off(self, listener: socket.socket, exc: OSError) -> None:
        log.error("accept failed (%s); pausing accepts for %.1fs", exc.strerror, EXHAUSTION_PAUSE)
        fd = listener.fileno()
        self._loop.remove_reader(fd)
        self._backing_off.add(fd)
        self._loop.call_later(EXHAUSTION_PAUSE, self._resume, listener)

    def _resume(self, listener: socket.socket) -> None:
        self._backing_off.discard(listener.fileno())
        if self._accepting and listener in self._listeners:
            self._loop.add_reader(listener.fileno(), self._accept, listener)
