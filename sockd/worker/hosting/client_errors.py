"""Errors clients cause, counted by kind and logged once per kind and interval.

A client decides how often these happen (a malformed or oversized request head, a silent
connection, a malformed or too deeply nested packet), so one line each would let it fill
the log and spend the worker's time writing it. The first of a kind in an interval is
logged at once, with its details; the others are counted and reported in one line when the
interval ends. Totals by kind since the worker started stay readable (:func:`counts`).

:func:`note` is for sockd's own refusals; :class:`LibraryNoise` turns the client-caused
lines of the libraries (uvicorn's "Invalid HTTP request received.", one per bad request)
into notes.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from sockd.counted_log import CountedLog

#: Kinds counted apart; kinds are fixed phrases, so this only bounds a caller's mistake.
MAX_KINDS = 256
#: The kind errors of further kinds are counted under.
OTHER = "other client errors"

_log = logging.getLogger("sockd.worker.client_errors")


class ClientErrors:
    """Counts of client-caused errors by kind, and their log lines, one per kind and
    interval (:class:`sockd.counted_log.CountedLog`)."""

    def __init__(self, logger: logging.Logger) -> None:
        self._lines = CountedLog(logger)
        self._totals: Counter[str] = Counter()

    def note(self, kind: str, detail: Any = None) -> None:
        """One error of ``kind`` (a fixed phrase); ``detail`` (the client, the packet's
        problem) is shown if this one is logged. Call it from the event loop."""
        if kind not in self._totals and len(self._totals) >= MAX_KINDS:
            kind = OTHER
        self._totals[kind] += 1
        line = kind if detail is None else f"{kind} ({detail})"
        self._lines.note(kind, logging.WARNING, line, kind + ": {count} more in {seconds}s")

    def counts(self) -> dict[str, int]:
        """Every error noted since the worker started, by kind."""
        return dict(self._totals)


class LibraryNoise(logging.Filter):
    """Takes the lines of a library logger that report a client's error out of the log,
    as notes of :data:`ERRORS` (``kinds``: the message, as the library writes it, and the
    kind it is noted under)."""

    def __init__(self, errors: ClientErrors, kinds: dict[str, str]) -> None:
        super().__init__()
        self._errors = errors
        self._kinds = kinds

    def filter(self, record: logging.LogRecord) -> bool:
        kind = self._kinds.get(str(record.msg))
        if kind is None:
            return True
        self._errors.note(kind)
        return False


#: The worker's client errors.
ERRORS = ClientErrors(_log)
#: uvicorn's lines about a client's request, one each, which this counts instead.
UVICORN_LINES = {
    "Invalid HTTP request received.": "refused 400: malformed HTTP request",
    "Unsupported upgrade request.": "unsupported upgrade request",
    "Invalid UTF-8 sequence received from client.": "closed 1007: invalid UTF-8 in a text frame",
}


def peer(client: tuple[str, int] | None) -> str:
    """A client address as the detail of a note."""
    return f"client {client[0]}:{client[1]}" if client and client[0] else "a Unix socket client"


def note(kind: str, detail: Any = None) -> None:
    """One client-caused error of ``kind`` in this worker (see :class:`ClientErrors`)."""
    ERRORS.note(kind, detail)


def counts() -> dict[str, int]:
    """This worker's client-caused errors since it started, by kind."""
    return ERRORS.counts()


def count_library_lines() -> None:
    """Count uvicorn's client-error lines instead of logging each (once per process)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(known, LibraryNoise) for known in logger.filters):
        logger.addFilter(LibraryNoise(ERRORS, UVICORN_LINES))
