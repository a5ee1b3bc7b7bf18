"""Bounds on a request head, checked on the bytes as they arrive, before a parser keeps them.

uvicorn (0.52-0.54) reads a request head with httptools, which keeps each header's name and
value until its line ends (growing them by concatenation) and bounds neither their length
nor their count, and uvicorn keeps the URL the same way; nor does uvicorn bound the time a
head may take (its ``timeout_keep_alive`` runs only between requests, once a response is
complete). Measured before this: heads of 100 KB to 50 MB and 200,000 headers were accepted
(a worker grew from 61 to 235 MB and kept it), and connections that sent nothing stayed open
for good.

:class:`HeadScanner` follows one head through the chunks it arrives in: its lines (each at
most ``max_line`` bytes), their count (``max_headers`` header lines) and their total
(``max_size``), and says where the head ends, so the bytes after it (a body) are not taken
for head lines. Empty lines before the request line count towards the total, as parsers
skip them. The uvicorn adapter (:mod:`sockd.worker.hosting.uvicorn_adapter.http`) runs
one per connection in front of httptools and refuses a head that breaks a bound at once:
414 for the request line, 431 for the headers, as nginx and Node answer; :class:`HeadGuard`
adds the head's deadline: 408 when it passes, as Node answers.
"""

from __future__ import annotations

import asyncio
import http
from collections.abc import Callable
from dataclasses import dataclass

from sockd.config.cluster import ClusterSettings


@dataclass(frozen=True)
class HeadLimits:
    """The bounds of one request head (``--header-timeout``, ``--max-header-*``)."""

    #: Seconds a head may take, from the hand-off or from its first byte.
    timeout: float = 10.0
    #: Longest request line or header line, without its line ending.
    max_line: int = 8190
    #: Largest head: every line with its line ending (the blank line that ends it aside).
    max_size: int = 16384
    #: Most header lines (the request line not counted).
    max_headers: int = 100


def head_limits(cluster: ClusterSettings) -> HeadLimits:
    """The limits ``--header-timeout`` and ``--max-header-*`` set."""
    return HeadLimits(
        cluster.header_timeout,
        cluster.max_header_line,
        cluster.max_header_size,
        cluster.max_headers,
    )


@dataclass(frozen=True)
class Refusal:
    """Why a head is refused: the HTTP status to answer and one line for the log."""

    status: int
    reason: str


class HeadScanner:
    """The bounds of :class:`HeadLimits` applied to one head at a time."""

    __slots__ = ("_cr", "_limits", "_line", "_lines", "_size")

    def __init__(self, limits: HeadLimits) -> None:
        self._limits = limits
        self.reset()

    def reset(self) -> None:
        """Expect a new head (after a complete request, on a kept-alive connection)."""
        self._line = 0  # bytes of the line still open
        self._cr = False  # whether they end with a CR
        self._lines = 0  # complete lines, the request line included, blank ones not
        self._size = 0

    @property
    def started(self) -> bool:
        """Whether any byte of this head has arrived."""
        return self._size > 0

    def feed(self, data: bytes) -> Refusal | int | None:
        """Follow ``data``, the head's next bytes: a refusal, the offset just past the
        blank line that ends the head, or None when the head goes on."""
        start = 0
        while True:
            newline = data.find(b"\n", start)
            if newline < 0:
                if start < len(data):
                    self._line += len(data) - start
                    self._size += len(data) - start
                    self._cr = data[-1] == 13
                return self._open_line_refusal()
            length = self._line + newline - start
            if data[newline - 1] == 13 if newline > start else self._cr and self._line:
                length -= 1  # CRLF; a lone LF ends a line too, as parsers take it
            self._size += newline + 1 - start
            self._line, self._cr, start = 0, False, newline + 1
            if length == 0 and self._lines:
                return start
            refusal = self._line_refusal(length) if length else None
            if refusal is None and self._size > self._limits.max_size:
                refusal = Refusal(431, f"request head larger than {self._limits.max_size} bytes")
            if refusal is not None:
                return refusal

    def _line_refusal(self, length: int) -> Refusal | None:
        self._lines += 1
        limits = self._limits
        if length > limits.max_line:
            return self._too_long(request_line=self._lines == 1)
        if self._lines - 1 > limits.max_headers:
            return Refusal(431, f"more than {limits.max_headers} header lines")
        return None

    def _open_line_refusal(self) -> Refusal | None:
        limits = self._limits
        if self._line - self._cr > limits.max_line:
            return self._too_long(request_line=not self._lines)
        if self._size > limits.max_size:
            return Refusal(431, f"request head larger than {limits.max_size} bytes")
        return None

    def _too_long(self, request_line: bool) -> Refusal:
        limit = self._limits.max_line
        if request_line:
            return Refusal(414, f"request line longer than {limit} bytes")
        return Refusal(431, f"header line longer than {limit} bytes")


class HeadGuard:
    """One connection's request heads: each scanned, and each bounded in time.

    The first head's time starts with the connection; a later one's with its first byte
    (until then the connection is idle between requests, which uvicorn's keep-alive
    timeout bounds). When a head's time is up, ``refuse(status, reason)`` is called: 408
    for a client that began a head, None (close without an answer) for a silent one.
    """

    __slots__ = ("_limits", "_loop", "_refuse", "_scanner", "_timer", "reading")

    def __init__(
        self,
        limits: HeadLimits,
        loop: asyncio.AbstractEventLoop,
        refuse: Callable[[int | None, str], None],
    ) -> None:
        self._limits = limits
        self._loop = loop
        self._refuse = refuse
        self._scanner = HeadScanner(limits)
        #: Whether the next bytes belong to a head.
        self.reading = True
        self._timer: asyncio.TimerHandle | None = loop.call_later(limits.timeout, self._expired)

    @property
    def started(self) -> bool:
        """Whether any byte of the head being read has arrived."""
        return self._scanner.started

    def feed(self, data: bytes) -> Refusal | int | None:
        """As :meth:`HeadScanner.feed`; the head is read once it says where it ends."""
        if self._timer is None:
            self._timer = self._loop.call_later(self._limits.timeout, self._expired)
        end = self._scanner.feed(data)
        if isinstance(end, int):
            self.stop()
        return end

    def expect_next(self) -> None:
        """The request is complete: what comes next is a new head."""
        self._scanner.reset()
        self.reading = True

    def stop(self) -> None:
        """No head is being read (it ended, or the connection did)."""
        self.reading = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        reason = f"no complete request head within {self._limits.timeout:g}s"
        self._refuse(408 if self.started else None, reason)


def refusal_response(status: int, reason: str) -> bytes:
    """A complete HTTP response refusing a request with ``status``, closing the connection."""
    body = reason.encode("ascii", "replace")
    phrase = http.HTTPStatus(status).phrase
    return (
        f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body
