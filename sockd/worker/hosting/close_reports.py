"""``--max-per-address``: the master counts a client's connections until the worker says
they closed, so each connection it serves reports its client address when it closes.

The reports of one loop turn leave together, in as few messages as fit, on the hand-off
channel (:func:`sockd.wire.worker_notes.send_closed`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from sockd.counted_log import CountedLog
from sockd.wire.worker_notes import send_closed

#: Reports waiting for a master that does not read; more are dropped (the master then
#: counts those connections as open until the worker exits).
MAX_WAITING = 100_000


class ReportingSocket(socket.socket):
    """A socket that calls ``on_close`` once, when it is closed or detached.

    uvloop detaches the socket object it was given when the transport closes (and closes
    the descriptor itself); asyncio's own loop closes it; both end up here.
    """

    on_close: Callable[[], None] | None = None

    def detach(self) -> int:
        self._report()
        return super().detach()

    def close(self) -> None:
        self._report()
        super().close()

    def _report(self) -> None:
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()


class CloseReports:
    def __init__(self, channel: socket.socket, log: logging.Logger) -> None:
        self._channel = channel
        self._loop = asyncio.get_running_loop()
        self._waiting: list[str] = []
        self._scheduled = False
        self._writer_armed = False
        self._log = CountedLog(log)

    def socket_for(self, fd: int, host: str) -> socket.socket:
        """The socket of a connection from ``host`` that reports its close."""
        sock = ReportingSocket(fileno=fd)
        sock.on_close = lambda: self.closed(host)
        return sock

    def closed(self, host: str) -> None:
        """A connection from ``host`` the master counted is gone (closed, lost, returned)."""
        if len(self._waiting) >= MAX_WAITING:
            self._log.note(
                "dropped",
                logging.WARNING,
                f"the master reads no close reports: {MAX_WAITING} wait, dropping more",
                "dropped {count} more close reports in the last {seconds}s",
            )
            return
        self._waiting.append(host)
        if not self._scheduled and not self._writer_armed:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        while self._waiting:
            try:
                taken = send_closed(self._channel, self._waiting)
            except BlockingIOError:
                if not self._writer_armed:
                    self._writer_armed = True
                    self._loop.add_writer(self._channel.fileno(), self._on_writable)
                return
            except OSError:
                self._waiting.clear()  # the master is gone; nobody counts any more
                return
            del self._waiting[:taken]

    def close(self) -> None:
        """Stop waiting to write (the channel is about to close)."""
        if self._writer_armed:
            self._writer_armed = False
            self._loop.remove_writer(self._channel.fileno())

    def _on_writable(self) -> None:
        self._loop.remove_writer(self._channel.fileno())
        self._writer_armed = False
        self._flush()
