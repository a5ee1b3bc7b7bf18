"""Whether a worker's Redis bus is connected, since when it is not, and what the log says.

The bus is connected when its reader is and its last publish went through; otherwise it is
degraded (also from the start until the reader first connects). The log gets one line when
an outage starts, one per interval while it lasts or while the queue's bound drops messages,
and one when it ends: an outage costs a handful of lines, not one per failed publish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

#: Seconds between two log lines about the same outage or about dropped messages.
LOG_INTERVAL = 10.0


class BusHealth:
    """The state of one worker's Redis bus, for ``sockd status`` and the log.

    Each report passes the queue's figures (messages queued, dropped in all), which the
    log lines and :meth:`stats` quote.
    """

    def __init__(
        self,
        kind: str,
        address: str,
        queue_limit: int,
        log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._kind = kind
        self._address = address
        self._queue_limit = queue_limit
        self._log = log
        self._clock = clock
        self._wall_clock = wall_clock
        self._reader_up = False
        self._writer_error: str | None = None
        self._degraded_at = clock()
        self._degraded_since = wall_clock()
        self._outage_logged = False
        #: When the last line about the outage, and about dropped messages, went out.
        self._last_line = self._last_drop_line = -LOG_INTERVAL
        self._dropped_logged = 0

    @property
    def connected(self) -> bool:
        return self._reader_up and self._writer_error is None

    def reader_up(self, queued: int, dropped: int) -> None:
        """The reader is connected (subscribed, or reading its stream)."""
        self._reader_up = True
        self._maybe_recovered(queued, dropped)

    def reader_down(self, error: BaseException, queued: int, dropped: int) -> None:
        self._went_down()
        self._reader_up = False
        self._failed(error, queued, dropped)

    def published(self, queued: int, dropped: int) -> None:
        """A batch went through (called for every batch: cheap when nothing changes)."""
        if self._writer_error is None:
            return
        self._writer_error = None
        self._maybe_recovered(queued, dropped)

    def publish_failed(self, error: BaseException, queued: int, dropped: int) -> None:
        self._went_down()
        self._writer_error = _describe(error)
        self._failed(error, queued, dropped)

    def dropped(self, queued: int, dropped: int) -> None:
        """The queue's bound dropped a message: one line per interval says how many."""
        now = self._clock()
        if now - self._last_drop_line < LOG_INTERVAL:
            return
        self._last_drop_line = now
        self._log.warning(
            "redis bus: %d message(s) dropped in the last %.0fs (%d in all): %d queued, "
            "the bound is %d",
            dropped - self._dropped_logged, LOG_INTERVAL, dropped, queued, self._queue_limit,
        )  # fmt: skip
        self._dropped_logged = dropped

    def stats(self, queued: int, dropped: int) -> dict[str, Any]:
        """The figures ``sockd status`` shows for this bus."""
        connected = self.connected
        return {
            "kind": self._kind,
            "state": "connected" if connected else "degraded",
            "degraded_since": None if connected else round(self._degraded_since, 3),
            "queued": queued,
            "dropped": dropped,
        }

    def _went_down(self) -> None:
        if self.connected:
            self._degraded_at = self._clock()
            self._degraded_since = self._wall_clock()

    def _failed(self, error: BaseException, queued: int, dropped: int) -> None:
        now = self._clock()
        if not self._outage_logged:
            self._outage_logged = True
            self._last_line = now
            self._log.warning(
                "redis bus: cannot reach Redis at %s (%s); this worker serves its own "
                "clients meanwhile and keeps up to %d bus messages until Redis is back",
                self._address, _describe(error), self._queue_limit,
            )  # fmt: skip
        elif now - self._last_line >= LOG_INTERVAL:
            self._last_line = now
            self._log.warning(
                "redis bus: Redis at %s unreachable for %.0fs (%s): %d message(s) queued, "
                "%d dropped in the last %.0fs",
                self._address, now - self._degraded_at, _describe(error), queued,
                dropped - self._dropped_logged, LOG_INTERVAL,
            )  # fmt: skip
            self._dropped_logged = dropped

    def _maybe_recovered(self, queued: int, dropped: int) -> None:
        if not self.connected:
            return
        if self._outage_logged:
            self._log.info(
                "redis bus: Redis at %s is back after %.1fs; %d queued message(s) on their "
                "way, %d dropped in all",
                self._address, self._clock() - self._degraded_at, queued, dropped,
            )  # fmt: skip
            self._outage_logged = False
        else:
            self._log.info("redis bus (%s) connected to %s", self._kind, self._address)


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
