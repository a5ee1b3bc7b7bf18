"""The bus's lag, measured: a probe message published once a second, timed on arrival.

Each worker publishes a tiny probe with the time it left (the host's monotonic clock) and
the host's boot id; a worker that receives a probe from its own host (over the master's
bus, the other workers' probes; over Redis, its own too) takes now minus that time as the
bus's lag: what a broadcast waits in the publisher's queue, on the way and in the
receiver's before it is handled. Probes from other hosts are not timed (their clocks are
not this one's). python-socketio servers on the same Redis channel ignore the probe's
method, as they ignore every method they do not know.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

#: The ``method`` of a probe on the bus.
PROBE = "sockd-probe"


def _boot_id() -> str:
    """This boot of this machine: processes with the same one share CLOCK_MONOTONIC."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


BOOT_ID = _boot_id()


def probe(host_id: str) -> dict[str, Any]:
    """A probe message, stamped now."""
    return {"method": PROBE, "host_id": host_id, "boot": BOOT_ID, "at": time.monotonic()}


def lag_of(message: dict[str, Any], now: float) -> float | None:
    """The lag a probe received at ``now`` shows; None when its clock is not this host's."""
    at = message.get("at")
    if not BOOT_ID or message.get("boot") != BOOT_ID or not isinstance(at, int | float):
        return None
    return max(0.0, now - at)


class BusLag:
    """The bus lag one worker reports, from the probes it receives.

    Over Redis a worker receives its own probes too: once one came back, a probe of its
    own that stays away counts as lag as it grows (an outage shows as a rising lag, not as
    the last value before it). Over the master's bus a worker's own probes never come back
    (the master relays to the others only), so only the others' arrivals are timed.
    """

    def __init__(self, host_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._host_id = host_id
        self._clock = clock
        self._last: float | None = None
        self._own_come_back = False
        self._waiting_since: float | None = None

    def sent(self, at: float) -> None:
        """A probe of ours left at ``at``."""
        if self._own_come_back and self._waiting_since is None:
            self._waiting_since = at

    def received(self, message: dict[str, Any]) -> None:
        lag = lag_of(message, self._clock())
        if lag is None:
            return
        self._last = lag
        if message.get("host_id") == self._host_id:
            self._own_come_back = True
            self._waiting_since = None

    def seconds(self) -> float | None:
        """The lag now; None before any probe was timed."""
        if self._waiting_since is None or self._last is None:
            return self._last
        return max(self._last, self._clock() - self._waiting_since)


class Prober:
    """Sends one probe per heartbeat, in a task of its own: a stalled bus never holds the
    heartbeat up, and no second probe is sent while one is on its way."""

    def __init__(self) -> None:
        self._sending: asyncio.Task[None] | None = None

    def tick(self, send: Callable[[], Awaitable[None]]) -> None:
        if self._sending is None or self._sending.done():
            self._sending = asyncio.ensure_future(send())
            self._sending.add_done_callback(_retrieved)


def _retrieved(task: asyncio.Future[None]) -> None:
    """A failed probe is the bus's failure, which the bus logs (and the lag shows)."""
    if not task.cancelled():
        task.exception()
