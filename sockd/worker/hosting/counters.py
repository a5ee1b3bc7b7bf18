"""What a worker counts for the metrics: Socket.IO connects and events per namespace, and
how long event handlers take, shipped with each STATS report.

Counting is on the hot path of every event, so it is plain integer and float arithmetic on
the worker's own objects: no lock, no message per event, no allocation once a namespace
was seen. The totals only grow while the worker lives; the master keeps a dead worker's
last report (``sockd/supervisor/observe/ledger.py``), so cluster totals never go back.

One compat entry (``sockd/worker/compat/entries.py``), :class:`Counted`, counts: around
``_handle_connect`` (a connect counts once the client is in the namespace, refused ones
apart; it is in front of the other connect entries, so it sees their outcome) and around
``_trigger_event`` (every event but connect and disconnect, timed around the app's
handler). Upstream change that would remove it: a hook on python-socketio's server called
with each connect's and event's namespace, outcome and duration.
"""

from __future__ import annotations

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
    """This worker's totals since it started."""

    def __init__(self) -> None:
        self.connects: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.handlers: dict[str, Histogram] = {}

    def connected(self, namespace: str, accepted: bool) -> None:
        counts = self.connects if accepted else self.refused
        name = self._name(namespace, counts)
        counts[name] = counts.get(name, 0) + 1

    def handled(self, namespace: str, seconds: float) -> None:
        histogram = self.handlers.get(namespace)
        if histogram is None:
            histogram = self.handlers.setdefault(
                self._name(namespace, self.handlers), Histogram(HANDLER_BOUNDS)
            )
        histogram.observe(seconds)

    def report(self) -> dict[str, Any]:
        """The totals as the STATS report carries them."""
        return {
            "connects": dict(self.connects),
            "refused": dict(self.refused),
            "handlers": {name: h.to_wire() for name, h in self.handlers.items()},
        }

    @staticmethod
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
    return {**stats, "published": manager.published, "received": manager.received}


class Counted(socketio.AsyncServer):
    """Counts each namespace connect (accepted or refused) and each client event, timing
    its handler. ``sockd_counters`` is set by the compat layer; None counts nothing."""

    sockd_counters: WorkerCounters | None = None

    async def _handle_connect(self, eio_sid: str, namespace: str, data: Any) -> Any:
        result = await super()._handle_connect(eio_sid, namespace, data)
        counters = self.sockd_counters
        if counters is not None:
            namespace = namespace or "/"
            accepted = self.manager.sid_from_eio_sid(eio_sid, namespace) is not None
            counters.connected(namespace, accepted)
        return result

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        counters = self.sockd_counters
        if counters is None or event in _LIFECYCLE:
            return await super()._trigger_event(event, namespace, *args)
        started = perf_counter()
        try:
            return await super()._trigger_event(event, namespace, *args)
        finally:
            counters.handled(namespace, perf_counter() - started)
