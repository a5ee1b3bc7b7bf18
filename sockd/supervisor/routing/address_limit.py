"""``--max-per-address``: at most N open connections per client address.

Open, as nginx's ``limit_conn`` and HAProxy's ``src_conn_cur`` count them, not a rate:
users of both set "20 connections per address" and expect a client that closes some to
open as many again, whatever the pace; a rate limit is a different directive there
(``limit_req``, ``src_conn_rate``). A connection counts from its hand-off until its worker
reports it closed, hands it back, or exits. The address is the client's as the master
determined it (PROXY header, trusted X-Forwarded-For); trusted proxies themselves are not
limited, since every client behind them shares their address.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable

from sockd.counted_log import CountedLog

log = logging.getLogger("sockd.master")


class AddressLimit:
    def __init__(self, limit: int, exempt: Callable[[str], bool]) -> None:
        self.limit = limit
        self._exempt = exempt
        #: Open connections per client address, over every worker.
        self._open: Counter[str] = Counter()
        self._counted = CountedLog(log)
        #: Connections closed over the limit (the metrics).
        self.refused = 0

    def admit(self, host: str) -> bool:
        """Whether a new connection from ``host`` may go on; logs (counted) when not."""
        if self._open[host] < self.limit or self._exempt(host):
            return True
        self.refused += 1
        self._counted.note(
            "over",
            logging.WARNING,
            f"closing connection from {host}: it has {self.limit} open "
            f"(--max-per-address {self.limit})",
            f"closed {{count}} more connections over --max-per-address {self.limit} in the "
            "last {seconds}s",
        )
        return False

    def opened(self, host: str, counts: Counter[str]) -> None:
        """A connection from ``host`` went to the worker whose open connections are
        ``counts`` (that worker's link keeps them, to forget them when it exits)."""
        if not self._exempt(host):
            counts[host] += 1
            self._open[host] += 1

    def closed(self, host: str, counts: Counter[str]) -> None:
        """The worker of ``counts`` closed a connection from ``host`` (or gave it back)."""
        if counts[host] > 0:
            _decrement(counts, host, 1)
            _decrement(self._open, host, 1)

    def forget(self, counts: Counter[str]) -> None:
        """That worker is gone, and every connection it had with it."""
        for host, count in counts.items():
            _decrement(self._open, host, count)
        counts.clear()

    def open_from(self, host: str) -> int:
        return self._open[host]


def _decrement(counts: Counter[str], host: str, by: int) -> None:
    left = counts[host] - by
    if left > 0:
        counts[host] = left
    else:
        counts.pop(host, None)
