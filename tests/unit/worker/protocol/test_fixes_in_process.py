"""Each protocol fix, in-process against the worker's ASGI app (no sockets, no processes).

The end-to-end tests (tests/e2e/test_protocol_*.py) check the same gaps through a real
sockd; these pin each fix down on its own, in milliseconds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from tests.unit.worker.asgi_driver import WebSocket, handshake, request, socketio_app

#: Loop turns a test lets pass for a request in flight to reach its wait.
TURNS = 50


async def settled(condition: Callable[[], bool]) -> None:
    """Yield to the loop until ``condition`` holds (a bounded number of turns, no timers)."""
    for _ in range(TURNS):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the app did not get there")


def session(app: Any, sid: str) -> Any:
    """The Engine.IO session ``sid`` of the app's server, for the tests' waits."""
    return app.engineio_server.eio.sockets[sid]


def test_handshake_advertises_a_sub_second_ping_interval_exactly() -> None:
    async def scenario() -> int:
        reply = await request(socketio_app(ping_interval=0.3))
        return int(json.loads(reply.body[1:])["pingInterval"])

    assert asyncio.run(scenario()) == 300


def test_requests_the_protocol_forbids_get_400() -> None:
    async def scenario() -> list[int]:
        app = socketio_app()
        sid = await handshake(app)
        replies = [
            await request(app, transport=""),
            await request(app, EIO="3"),
            await request(app, "POST", "40"),
            await request(app, "PUT", sid=sid),
        ]
        return [reply.status for reply in replies]

    assert asyncio.run(scenario()) == [400, 400, 400, 400]


def test_a_post_is_answered_lowercase_ok() -> None:
    async def scenario() -> tuple[int, str]:
        app = socketio_app()
        reply = await request(app, "POST", "40", sid=await handshake(app))
        return reply.status, reply.body

    assert asyncio.run(scenario()) == (200, "ok")


async def _connected_polling(app: Any) -> str:
    sid = await handshake(app)
    assert (await request(app, "POST", "40", sid=sid)).status == 200
    assert (await request(app, sid=sid)).body.startswith("40{")
    return sid


async def _pending_poll(app: Any, sid: str) -> asyncio.Future[Any]:
    pending = asyncio.ensure_future(request(app, sid=sid))
    await settled(lambda: bool(session(app, sid).parked))
    return pending


def test_a_second_concurrent_poll_closes_the_session() -> None:
    async def scenario() -> tuple[str, int, int]:
        app = socketio_app()
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        second = await request(app, sid=sid)
        first = await pending
        return first.body, second.status, (await request(app, sid=sid)).status

    assert asyncio.run(scenario()) == ("1", 400, 400)


def test_the_client_close_packet_ends_the_pending_poll_with_a_noop() -> None:
    async def scenario() -> tuple[str, str, int]:
        app = socketio_app()
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        posted = await request(app, "POST", "1", sid=sid)
        return (await pending).body, posted.body, (await request(app, sid=sid)).status

    assert asyncio.run(scenario()) == ("6", "ok", 400)


def test_the_server_ends_a_poll_without_the_close_packet() -> None:
    async def scenario() -> tuple[str, int]:
        app = socketio_app()
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        await app.engineio_server.eio.disconnect(sid)
        return (await pending).body, (await request(app, sid=sid)).status

    assert asyncio.run(scenario()) == ("6", 400)


def test_an_unknown_namespace_is_refused_as_invalid() -> None:
    async def scenario() -> str:
        app = socketio_app()
        sid = await handshake(app)
        await request(app, "POST", "40/nope,", sid=sid)
        return (await request(app, sid=sid)).body

    assert asyncio.run(scenario()) == '44/nope,{"message":"Invalid namespace"}'


def test_a_malformed_packet_over_polling_ends_the_session() -> None:
    async def scenario() -> tuple[str, int]:
        app = socketio_app()
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        assert (await request(app, "POST", "42{}", sid=sid)).status == 200
        return (await pending).body, (await request(app, sid=sid)).status

    assert asyncio.run(scenario()) == ("1", 400)


def test_after_the_upgrade_a_post_gets_400_and_no_noop_reaches_the_websocket() -> None:
    async def scenario() -> tuple[str | None, str, int, str | None]:
        app = socketio_app()
        app.engineio_server.on("echo", lambda sid, data: data)
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        ws = WebSocket(app, sid=sid)
        assert await ws.accepted()
        ws.send("2probe")
        probe = await ws.receive()
        ended = (await pending).body
        ws.send("5")
        post = await request(app, "POST", '42["echo",1]', sid=sid)
        ws.send('421["echo","upgraded"]')
        first = await ws.receive()
        await ws.close()
        return probe, ended, post.status, first

    assert asyncio.run(scenario()) == ("3probe", "6", 400, '431["upgraded"]')


def test_websocket_messages_are_received_in_order_and_acked() -> None:
    async def scenario() -> list[str | None]:
        app = socketio_app()
        app.engineio_server.on("echo", lambda sid, data: data)
        ws = WebSocket(app)
        assert await ws.accepted()
        assert (await ws.receive() or "").startswith("0{")
        ws.send("40")
        assert (await ws.receive() or "").startswith("40{")
        for n in range(5):
            ws.send(f'42{n}["echo",{n}]')
        acks = [await ws.receive() for _ in range(5)]
        await ws.close()
        return acks

    assert asyncio.run(scenario()) == [f"43{n}[{n}]" for n in range(5)]


def test_an_invalid_packet_over_websocket_closes_the_session() -> None:
    async def scenario() -> tuple[str | None, bool]:
        app = socketio_app()
        ws = WebSocket(app)
        assert await ws.accepted()
        opened = await ws.receive() or ""
        sid = json.loads(opened[1:])["sid"]
        ws.send("40")
        await ws.receive()
        ws.send("abc")
        closed = await ws.receive()
        await ws.close()
        return closed, sid in app.engineio_server.eio.sockets

    assert asyncio.run(scenario()) == (None, False)


def test_a_poll_after_the_pong_deadline_gets_400_even_before_the_timer_ran() -> None:
    """A busy loop can read a poll in the turn its session's deadline passes."""

    async def scenario() -> tuple[int, bool]:
        app = socketio_app()
        sid = await _connected_polling(app)
        session(app, sid)._pong_deadline = 0.0  # passed; its timer has not run yet
        poll = asyncio.ensure_future(request(app, sid=sid))
        await settled(poll.done)  # answered at once, not parked until some timeout
        return poll.result().status, sid in app.engineio_server.eio.sockets

    assert asyncio.run(scenario()) == (400, False)
