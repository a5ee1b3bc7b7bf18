"""The accept loop: non-blocking accepts on every listener, with fd-exhaustion backoff.

Accepting can be paused and resumed without closing the listeners: a master handing
over to its successor (SIGUSR2) stops accepting while the successor starts to, and the
connections that arrive meanwhile wait in the listen backlog they share.

``--max-pending`` caps the connections the master holds before their hand-off (in a peek
or a slot's queue): at the cap it stops accepting too, as HAProxy does at ``maxconn``,
and new clients wait in the listen backlog, where they cost the master nothing, until it
holds fewer. The cap is lowered to fit the master's own descriptor limit, so a flood
stops at the cap and not at EMFILE.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
from collections.abc import Callable

from sockd.counted_log import CountedLog
from sockd.supervisor.routing.keys import KeyResolver
from sockd.supervisor.routing.sticky_key import client_address
from sockd.wire.handoff import Handoff

log = logging.getLogger("sockd.master")

#: Accepts per readiness callback, so one busy listener cannot starve the loop.
ACCEPT_BATCH = 64
#: Pause after the process or system ran out of descriptors, instead of spinning.
EXHAUSTION_PAUSE = 0.5
_EXHAUSTION = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
#: How often a master at its cap looks whether it holds fewer.
CAP_POLL = 0.05
#: Descriptors the master keeps for itself below its limit: an eighth, at least 64.
OWN_SHARE, OWN_MIN = 8, 64


def fitted_cap(max_pending: int) -> int:
    """``max_pending``, lowered so the connections held leave the master descriptors of its
    own (listeners, worker channels, logs) below RLIMIT_NOFILE."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return max_pending
    return max(1, min(max_pending, soft - max(OWN_MIN, soft // OWN_SHARE)))


class Acceptor:
    """Accepts and hands each connection to the key-resolution stage, which then owns it."""

    def __init__(
        self,
        listeners: list[socket.socket],
        keys: KeyResolver,
        *,
        held: Callable[[], int] = lambda: 0,
        max_held: int | None = None,
        setting: int | None = None,
    ) -> None:
        """``held()`` counts the connections the master holds; ``max_held`` caps them
        (``setting``, the cap as configured, is for the log line)."""
        self._loop = asyncio.get_running_loop()
        self._listeners = listeners
        self._keys = keys
        self._held = held
        self._max_held = max_held
        self._setting = setting if setting is not None else max_held
        #: Listeners backing off after running out of descriptors.
        self._backing_off: set[int] = set()
        self._accepting = False
        self._at_cap = False
        #: Listeners whose reader is registered now.
        self._reading: set[int] = set()
        self._counted = CountedLog(log)
        self.accepted = 0

    @property
    def pending(self) -> int:
        """Accepted connections whose sticky key is still being read."""
        return self._keys.pending

    def start(self) -> None:
        """Accept on every listener (again, after :meth:`pause`)."""
        self._accepting = True
        self._update_readers()

    def pause(self) -> None:
        """Stop accepting; the listeners stay open and their backlogs fill."""
        self._accepting = False
        self._update_readers()

    def close(self) -> None:
        """Stop accepting, close the listeners and the connections still in a peek."""
        self.pause()
        self._keys.close()
        for listener in self._listeners:
            listener.close()
        self._listeners = []

    def _update_readers(self) -> None:
        """Read exactly the listeners that should be: accepting, below the cap, not
        backing off."""
        for listener in self._listeners:
            fd = listener.fileno()
            wanted = self._accepting and not self._at_cap and fd not in self._backing_off
            if wanted and fd not in self._reading:
                self._loop.add_reader(fd, self._accept, listener)
                self._reading.add(fd)
            elif not wanted and fd in self._reading:
                self._loop.remove_reader(fd)
                self._reading.discard(fd)

    def _accept(self, listener: socket.socket) -> None:
        room = ACCEPT_BATCH
        if self._max_held is not None:
            room = min(room, self._max_held - self._held())
            if room <= 0:
                self._hold_back()
                return
        for _ in range(room):
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

    @property
    def holding_back(self) -> bool:
        """At ``--max-pending``: not accepting until the master holds fewer."""
        return self._at_cap

    def _hold_back(self) -> None:
        """At the cap: stop reading every listener until the master holds fewer."""
        self._at_cap = True
        self._update_readers()
        cap = self._max_held
        lowered = "" if cap == self._setting else ", lowered to fit its descriptor limit"
        self._counted.note(
            "cap",
            logging.WARNING,
            f"the master holds {cap} connections not handed to a worker yet (--max-pending "
            f"{self._setting}{lowered}): not accepting until it holds fewer",
            "the master reached --max-pending {count} more times in the last {seconds}s",
        )
        self._loop.call_later(CAP_POLL, self._check_cap)

    def _check_cap(self) -> None:
        if self._max_held is not None and self._held() >= self._max_held and self._listeners:
            self._loop.call_later(CAP_POLL, self._check_cap)
            return
        self._at_cap = False
        self._update_readers()

    def _back_off(self, listener: socket.socket, exc: OSError) -> None:
        self._counted.note(
            "exhausted",
            logging.ERROR,
            f"accept failed ({exc.strerror}); pausing accepts for {EXHAUSTION_PAUSE:.1f}s",
            "accept failed {count} more times in the last {seconds}s, out of descriptors",
        )
        self._backing_off.add(listener.fileno())
        self._update_readers()
        self._loop.call_later(EXHAUSTION_PAUSE, self._resume, listener)

    def _resume(self, listener: socket.socket) -> None:
        self._backing_off.discard(listener.fileno())
        self._update_readers()
