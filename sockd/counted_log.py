"""Log lines about events that a flood can repeat: the first at once, the rest as one count.

A client (or an attacker) decides how often these happen: refused connections, peeks that
time out, hand-offs a worker cannot take. Each kind gets its first line at once, with the
details of that one event; the others of the same kind within the interval are counted
and reported in one line when it ends, so a flood of 10,000 costs two lines, not 10,000.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

#: Seconds over which events of one kind after the first are counted into one line.
INTERVAL = 10.0
#: Kinds counted at once; events of further kinds are logged as they come. Kinds are a
#: fixed set per caller (reasons, slots), so this only bounds a caller's mistake.
MAX_KINDS = 256


@dataclass
class _Counting:
    level: int
    summary: str
    count: int = 0


class CountedLog:
    """``note(kind, level, line, summary)``: one line per kind and interval, then a count."""

    def __init__(self, logger: logging.Logger, interval: float = INTERVAL) -> None:
        self._log = logger
        self._interval = interval
        self._counting: dict[str, _Counting] = {}

    def note(self, kind: str, level: int, line: str, summary: str) -> None:
        """One event of ``kind``: ``line`` if it is the first of an interval, else counted.

        ``summary`` is logged when the interval ends if more events came, with ``{count}``
        replaced by the number not logged one by one and ``{seconds}`` by the interval.
        """
        counting = self._counting.get(kind)
        if counting is not None:
            counting.count += 1
            counting.summary = summary
            return
        self._log.log(level, line)
        if len(self._counting) < MAX_KINDS:
            self._counting[kind] = _Counting(level, summary)
            asyncio.get_running_loop().call_later(self._interval, self._flush, kind)

    def _flush(self, kind: str) -> None:
        counting = self._counting.pop(kind)
        if counting.count:
            text = counting.summary.replace("{count}", str(counting.count))
            self._log.log(counting.level, text.replace("{seconds}", f"{self._interval:g}"))
