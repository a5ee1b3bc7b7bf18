"""Bounded, non-blocking peeks at the first bytes of accepted connections.

Each pending peek is a reader callback plus a deadline on the master's event
loop, so a slow or silent client never stalls the accept loop or anyone else.
``MSG_PEEK`` leaves the bytes in the kernel for the worker, which also leaves
the socket readable: when the bytes so far are not enough, the reader is
removed and the peek retried after a short, growing delay instead of spinning.

A connection closed for what it sent (or did not send) is logged with its reason; the
others closed for the same reason within the interval are counted into one line
(``sockd/counted_log.py``), so a flood of garbage costs a few lines, not one each.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from sockd.counted_log import CountedLog
from sockd.supervisor.routing.sticky_key import Route, peer_name
from sockd.wire.handoff import Handoff

log = logging.getLogger("sockd.master")

#: First and largest delay between peeks at a connection whose bytes are incomplete.
RETRY_FIRST, RETRY_MAX = 0.005, 0.2
#: Connections that may be in a peek at once; more are closed (a flood, not clients).
MAX_PENDING = 16384

Dispatch = Callable[[int, Handoff, Route], None]


class Refused(Exception):
    """The connection's first bytes are not acceptable; the message says why."""


@dataclass(frozen=True)
class Verdict:
    meta: Handoff
    route: Route
    #: Bytes to consume before the hand-off (a PROXY header); the rest reaches the worker.
    consume: int = 0


#: Looks at the bytes so far; ``None`` means "need more". Raises ``Refused``.
Inspector = Callable[[bytes, Handoff], Verdict | None]


class _Pending:
    __slots__ = ("deadline", "delay", "meta", "retry", "sock")

    def __init__(self, sock: socket.socket, meta: Handoff) -> None:
        self.sock = sock
        self.meta = meta
        self.deadline: asyncio.TimerHandle | None = None
        self.retry: asyncio.TimerHandle | None = None
        self.delay = RETRY_FIRST


class PeekStage:
    def __init__(
        self, inspect: Inspector, dispatch: Dispatch, *, timeout: float, limit: int
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._inspect = inspect
        self._dispatch = dispatch
        self._timeout = timeout
        self._limit = limit
        self._pending: dict[int, _Pending] = {}
        self._counted = CountedLog(log)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self, fd: int, meta: Handoff) -> None:
        """Peek at ``fd`` (owned from now on) until its route is known, refused or late."""
        if len(self._pending) >= MAX_PENDING:
            self._closed_because(meta, "too many peeks at once")
            os.close(fd)
            return
        peek = _Pending(socket.socket(fileno=fd), meta)
        peek.deadline = self._loop.call_later(self._timeout, self._expire, peek)
        self._pending[fd] = peek
        self._loop.add_reader(fd, self._readable, peek)

    def close(self) -> None:
        """Close every connection still in a peek (the master is stopping)."""
        for peek in list(self._pending.values()):
            self._drop(peek, None)

    def _readable(self, peek: _Pending) -> None:
        try:
            data = peek.sock.recv(self._limit, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(peek, None)  # gone before saying anything: nothing to log
            return
        try:
            verdict = self._inspect(data, peek.meta)
        except Refused as exc:
            self._drop(peek, str(exc))
            return
        except Exception:
            # A parser bug: left alone, the still-readable socket would call us again on
            # every turn of the loop until the deadline.
            log.exception(
                "closing connection from %s: reading its first bytes failed", peek.meta.peer_host
            )
            self._drop(peek, None)
            return
        if verdict is None:
            if len(data) >= self._limit:
                self._drop(peek, f"nothing usable in its first {self._limit} bytes")
                return
            self._loop.remove_reader(peek.sock.fileno())
            peek.retry = self._loop.call_later(peek.delay, self._rearm, peek)
            peek.delay = min(peek.delay * 2, RETRY_MAX)
            return
        if verdict.consume and peek.sock.recv(verdict.consume) != data[: verdict.consume]:
            self._drop(peek, "its header changed while it was read")
            return
        self._forget(peek)
        self._dispatch(peek.sock.detach(), verdict.meta, verdict.route)

    def _rearm(self, peek: _Pending) -> None:
        peek.retry = None
        self._loop.add_reader(peek.sock.fileno(), self._readable, peek)

    def _expire(self, peek: _Pending) -> None:
        peek.deadline = None
        self._drop(peek, f"no usable request within {self._timeout:g}s")

    def _forget(self, peek: _Pending) -> None:
        fd = peek.sock.fileno()
        del self._pending[fd]
        if peek.retry is not None:
            peek.retry.cancel()
        else:
            self._loop.remove_reader(fd)
        if peek.deadline is not None:
            peek.deadline.cancel()

    def _drop(self, peek: _Pending, reason: str | None) -> None:
        self._forget(peek)
        peek.sock.close()
        if reason:
            self._closed_because(peek.meta, reason)

    def _closed_because(self, meta: Handoff, reason: str) -> None:
        self._counted.note(
            reason,
            logging.WARNING,
            f"closing connection from {peer_name(meta.peer_host)}: {reason}",
            f"closed {{count}} more connections in the last {{seconds}}s: {reason}",
        )
