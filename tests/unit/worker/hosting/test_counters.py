"""A worker's counters on its own server, in-process: connects (accepted and refused) and
events per namespace, handler times, sessions by transport, and the report's bound on
namespaces."""

from __future__ import annotations

import asyncio
from typing import Any

from sockd.wire.histogram import Histogram
from sockd.worker.compat.install import CompatConfig
from sockd.worker.hosting.counters import (
    MAX_NAMESPACES,
    OTHER,
    WorkerCounters,
    sessions_by_transport,
)
from tests.unit.worker.asgi_driver import handshake, request, socketio_app
from tests.unit.worker.protocol.test_fixes_in_process import settled


def test_connects_and_events_are_counted_per_namespace_with_handler_times() -> None:
    counters = WorkerCounters(timing=True)

    async def scenario() -> None:
        app = socketio_app(CompatConfig(counters=counters))
        sio = app.engineio_server

        @sio.event
        async def echo(sid: str, data: Any) -> Any:
            return data

        @sio.on("connect", namespace="/closed")
        async def refuse(sid: str, environ: Any, auth: Any) -> bool:
            return False

        @sio.on("tick", namespace="/closed")
        async def never(sid: str) -> None: ...

        sid = await handshake(app)
        await request(app, "POST", "40", sid=sid)
        await request(app, "POST", "40/closed,", sid=sid)
        for n in range(3):
            await request(app, "POST", f'42{n}["echo",{n}]', sid=sid)
        await request(app, "POST", '42["unrouted"]', sid=sid)
        await settled(lambda: sum(h.count for h in counters.handlers.values()) == 4)

    asyncio.run(scenario())
    report = counters.report()
    assert report["connects"] == {"/": 1}
    assert report["refused"] == {"/closed": 1}
    assert report["events"] == {"/": 4}
    handlers = Histogram.from_wire(report["handlers"]["/"])
    assert handlers is not None and handlers.count == 4 and handlers.sum >= 0
    assert set(report["handlers"]) == {"/"}, "connect and disconnect are not events"


def test_namespaces_past_the_bound_are_counted_together() -> None:
    counters = WorkerCounters()
    for n in range(MAX_NAMESPACES + 5):
        counters.connected(f"/ns{n}", True)
        counters.histogram(f"/ns{n}").observe(0.001)
    assert len(counters.connects) == MAX_NAMESPACES + 1
    assert counters.connects[OTHER] == 5 and counters.handlers[OTHER].count == 5
    counters.connected("/ns0", True)
    assert counters.connects["/ns0"] == 2, "a namespace seen before keeps its own count"


def test_without_metrics_events_are_counted_and_no_handler_is_timed() -> None:
    counters = WorkerCounters()

    async def scenario() -> None:
        app = socketio_app(CompatConfig(counters=counters))

        @app.engineio_server.event
        async def echo(sid: str, data: Any) -> Any:
            return data

        sid = await handshake(app)
        await request(app, "POST", "40", sid=sid)
        await request(app, "POST", '420["echo",1]', sid=sid)
        await settled(lambda: counters.events.get("/") == 1)

    asyncio.run(scenario())
    assert counters.handlers == {}


def test_sessions_are_counted_by_transport() -> None:
    class Session:
        def __init__(self, upgraded: bool) -> None:
            self.upgraded = upgraded

    sockets = {str(n): Session(n % 3 == 0) for n in range(7)}
    assert sessions_by_transport(sockets) == {"polling": 4, "websocket": 3}
