"""The worker's end of the hand-off channel: serve each connection the master sends, or
hand it back while the worker is near its descriptor limit.

The worker keeps a reserve of descriptors (``descriptor_reserve.py``). At its mark it
tells the master (``FULL``), which sends the slot's new connections to the next slot in
each client's order; the connections already on their way are handed back (``RETURNED``)
for the master to route again, not dropped. Once enough have closed it says ``OPEN``.
A connection the kernel could still not deliver (the app ate the reserve) is logged with
that cause.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

from sockd.counted_log import CountedLog
from sockd.wire.frames import FrameError
from sockd.wire.handoff import Handoff, HandoffLost, receive_handoff
from sockd.wire.worker_notes import send_full, send_open, send_returned
from sockd.worker.hosting.close_reports import CloseReports
from sockd.worker.hosting.descriptor_reserve import DescriptorReserve

#: Seconds between counts of the open descriptors while the worker is at its mark.
CHECK_INTERVAL = 0.5

Serve = Callable[[socket.socket, tuple[str, int]], None]


class HandoffIntake:
    def __init__(
        self,
        channel: socket.socket,
        slot: int,
        log: logging.Logger,
        *,
        report_closes: bool,
        reserve: DescriptorReserve | None = None,
    ) -> None:
        self._channel = channel
        self._slot = slot
        self._log = log
        self._counted = CountedLog(log)
        self._reserve = reserve or DescriptorReserve()
        self._closes = CloseReports(channel, log) if report_closes else None
        self._loop = asyncio.get_running_loop()
        #: What the master was last told: that the worker is full.
        self._told_full = False
        self._checking: asyncio.TimerHandle | None = None

    def receive(self, serve: Serve) -> bool:
        """Take every hand-off waiting; False once the master closed the channel."""
        while True:
            try:
                received = receive_handoff(self._channel)
            except BlockingIOError:
                return True
            except HandoffLost as exc:
                self._lost(exc.meta)
                continue
            except (FrameError, ValueError) as exc:
                self._counted.note(
                    "bad",
                    logging.ERROR,
                    f"bad hand-off from the master: {exc}",
                    "{count} more bad hand-offs from the master in the last {seconds}s",
                )
                continue
            if received is None:
                self._stop_checking()
                return False
            self._take(*received, serve)

    def close(self) -> None:
        self._stop_checking()
        if self._closes is not None:
            self._closes.close()

    def _take(self, fd: int, meta: Handoff, serve: Serve) -> None:
        if not self._reserve.take(fd):
            self._tell()
            if self._give_back(fd, meta):
                return
        address = (meta.peer_host, meta.peer_port)
        if self._closes is not None:
            serve(self._closes.socket_for(fd, meta.peer_host), address)
        else:
            serve(socket.socket(fileno=fd), address)

    def _give_back(self, fd: int, meta: Handoff) -> bool:
        """Return the connection to the master; False if the channel cannot take it now
        (then the worker serves it from its reserve)."""
        try:
            send_returned(self._channel, fd, meta)
        except OSError:
            return False
        os.close(fd)
        return True

    def _lost(self, meta: Handoff | None) -> None:
        """The kernel dropped a connection: the worker is at its very limit."""
        self._reserve.full = True
        self._tell()
        limit = self._reserve.limit
        client = f" from {meta.peer_host}" if meta is not None and meta.peer_host else ""
        self._counted.note(
            "lost",
            logging.ERROR,
            f"lost a connection{client} handed over by the master: worker {self._slot} "
            f"is at its descriptor limit ({limit})",
            f"lost {{count}} more connections handed over by the master in the last "
            f"{{seconds}}s: worker {self._slot} is at its descriptor limit ({limit})",
        )
        if meta is not None and self._closes is not None:
            self._closes.closed(meta.peer_host)

    def _tell(self) -> None:
        """Bring the master up to date with the reserve, and keep checking while full."""
        full = self._reserve.full
        if full != self._told_full:
            try:
                if full:
                    send_full(self._channel, self._reserve.limit)
                else:
                    send_open(self._channel)
            except OSError:
                pass  # the channel is full or gone: the next check tries again
            else:
                self._told_full = full
        if (full or full != self._told_full) and self._checking is None:
            self._checking = self._loop.call_later(CHECK_INTERVAL, self._check)

    def _check(self) -> None:
        self._checking = None
        if self._reserve.full:
            self._reserve.check()
        self._tell()

    def _stop_checking(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
            self._checking = None
