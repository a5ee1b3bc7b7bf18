"""What a worker counts for the metrics and ``sockd top``: Socket.IO connects and events per
namespace, and (with ``--metrics``) how long event handlers take, shipped with each STATS
report.

Counting is on the hot path of every event, so it is plain integer arithmetic on the
worker's own objects: no lock, no message per event, no allocation once a namespace was
seen, and no coroutine of its own: :meth:`Counted._trigger_event` counts, then returns the
library's coroutine for the caller to await as before. Timing a handler takes a coroutine
around it (a frame and two clock reads per event, about 1% of an echo's CPU), so it runs
only when ``--metrics`` is on. The totals only grow while the worker lives; the master
keeps a dead worker's last report (``sockd/supervisor/observe/ledger.py``), so cluster
totals never go back.

One compat entry (``sockd/worker/compat/entries/``), :class:`Counted`, counts: around
``_handle_connect`` (a connect counts once the client is in the namespace, refused ones
apart; it is in front of the other connect entries, so it sees their outcome) and at
``_trigger_event`` (every event but connect and disconnect). Upstream change that would
remove it: a hook on python-socketio's server called with each connect's and event's
namespace, outcome and duration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import Any

import socketio

from sockd.wire.histogram import HANDLER_BOUNDS, Histogram
from sockd.worker.bus.encoded_broadcast import EncodedBroadcast

#: Namespaces counted by name; past that many (an app accepting any namespace, "*"), the
#: rest are counted together under :data:`OTHER`, so the series stay bounded.
MAX_NAMESPACES = 64
OTHER = "(other)"
#: Events python-socketio triggers itself, not sent by a client.
_LIFECYCLE = frozenset({"connect", "disconnect"})


class WorkerCounters:
    """This worker's totals since it started; ``timing``: time the handlers too."""

    def __init__(self, timing: bool = False) -> None:
        self.timing = timing
        self.connects: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.events: dict[str, int] = {}
        self.handlers: dict[str, Histogram] = {}

    def connected(self, namespace: str, accepted: bool) -> None:
        counts = self.connects if accepted else self.refused
        name = _name(namespace, counts)
        counts[name] = counts.get(name, 0) + 1

    def histogram(self, namespace: str) -> Histogram:
        """The handler histogram of a namespace (or of :data:`OTHER`)."""
        return self.handlers.get(namespace) or self.handlers.setdefault(
            _name(namespace, self.handlers), Histogram(HANDLER_BOUNDS)
        )

    def report(self) -> dict[str, Any]:
        """The totals as the STATS report carries them."""
        return {
            "connects": dict(self.connects),
            "refused": dict(self.refused),
            "events": dict(self.events),
            "handlers": {name: h.to_wire() for name, h in self.handlers.items()},
        }


def _name(namespace: str, seen: dict[str, Any]) -> str:
    return namespace if namespace in seen or len(seen) < MAX_NAMESPACES else OTHER


def sessions_by_transport(sockets: dict[str, Any]) -> dict[str, int]:
    """Engine.IO sessions open now, by transport (a session that upgraded is a WebSocket)."""
    websocket = sum(1 for session in list(sockets.values()) if session.upgraded)
    return {"polling": len(sockets) - websocket, "websocket": websocket}


def bus_figures(manager: Any) -> dict[str, Any] | None:
    """The bus's report (its ``stats()``, where it has one) with the messages it published
    and received; None for a client manager of the app's own."""
    if not isinstance(manager, EncodedBroadcast):
        return None
    stats = manager.stats() if hasattr(manager, "stats") else {}
    lag = manager.probes.seconds() if manager.probes is not None else None
    return {
        **stats,
        "published": manager.published,
        "received": manager.received,
        "lag_seconds": lag,
    }


class Counted(socketio.AsyncServer):
    """Counts each namespace connect (accepted or refused) and each client event, timing
    its handler with ``--metrics``. ``sockd_counters`` is set by the compat layer; None
    counts nothing."""

    sockd_counters: WorkerCounters | None = None

    async def _handle_connect(self, eio_sid: str, namespace: str, data: Any) -> Any:
        result = await super()._handle_connect(eio_sid, namespace, data)
        counters = self.sockd_counters
        if counters is not None:
            namespace = namespace or "/"
            accepted = self.manager.sid_from_eio_sid(eio_sid, namespace) is not None
            counters.connected(namespace, accepted)
        return result

    def _trigger_event(self, event: str, namespace: str, *args: Any) -> Awaitable[Any]:
        """The library's coroutine, which every caller awaits; counted (and timed) here."""
        after = _AFTER.get(type(self)) or _after(type(self))
        triggered = after(self, event, namespace, *args)
        counters = self.sockd_counters
        if counters is None or event in _LIFECYCLE:
            return triggered
        events = counters.events
        if namespace in events:
            events[namespace] += 1
        else:
            name = _name(namespace, events)
            events[name] = events.get(name, 0) + 1
        if counters.timing:
            return _timed(triggered, counters.histogram(namespace))
        return triggered


#: Server class -> the ``_trigger_event`` that follows :class:`Counted` in its MRO (what
#: ``super()`` finds), looked up once per class: ``super()`` walks the composed class's MRO
#: at each call, a third of what this entry would cost an event otherwise (measured).
_AFTER: dict[type, Callable[..., Awaitable[Any]]] = {}


def _after(cls: type) -> Callable[..., Awaitable[Any]]:
    mro = cls.__mro__
    found = next(c for c in mro[mro.index(Counted) + 1 :] if "_trigger_event" in vars(c))
    method: Callable[..., Awaitable[Any]] = vars(found)["_trigger_event"]
    _AFTER[cls] = method
    return method


async def _timed(triggered: Awaitable[Any], histogram: Histogram) -> Any:
    started = perf_counter()
    try:
        return await triggered
    finally:
        histogram.observe(perf_counter() - started)
