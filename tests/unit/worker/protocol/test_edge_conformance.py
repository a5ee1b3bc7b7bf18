"""Issue 15's protocol fixes, in-process against the worker's ASGI app.

Each test fails against plain python-engineio / python-socketio (the gap its module in
sockd/worker/protocol/ states) and passes with the compat layer installed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import engineio

from sockd.worker.compat.install import CompatConfig, install_engineio
from tests.unit.worker.asgi_driver import WebSocket, handshake, request, socketio_app
from tests.unit.worker.protocol.test_fixes_in_process import (
    _connected_polling,
    _pending_poll,
    session,
)


def _reasons(app: Any) -> list[str]:
    """The disconnect reasons the app's handler receives, as they come."""
    reasons: list[str] = []
    app.engineio_server.on("disconnect", lambda sid, reason: reasons.append(reason))
    return reasons


def test_an_unknown_packet_type_over_polling_closes_the_session_as_a_parse_error() -> None:
    async def scenario() -> tuple[int, str, int, list[str]]:
        app = socketio_app()
        reasons = _reasons(app)
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        posted = await request(app, "POST", "7", sid=sid)
        after = await request(app, sid=sid)
        return posted.status, (await pending).body, after.status, reasons

    assert asyncio.run(scenario()) == (400, "1", 400, ["parse error"])


def test_an_unknown_packet_type_over_websocket_closes_the_session() -> None:
    async def scenario() -> tuple[str | None, bool, list[str]]:
        app = socketio_app()
        reasons = _reasons(app)
        ws = WebSocket(app)
        assert await ws.accepted()
        sid = json.loads((await ws.receive() or "")[1:])["sid"]
        ws.send("40")
        await ws.receive()
        ws.send("9")
        closed = await ws.receive()
        await ws.close()
        return closed, sid in app.engineio_server.eio.sockets, reasons

    assert asyncio.run(scenario()) == (None, False, ["parse error"])


def test_a_post_to_a_session_closed_on_an_error_gets_400_not_500() -> None:
    async def scenario() -> tuple[int, bool, int]:
        app = socketio_app()
        sid = await _connected_polling(app)
        malformed = await request(app, "POST", "42{}", sid=sid)  # the session is closed
        closed = session(app, sid).closed
        return malformed.status, closed, (await request(app, "POST", "40", sid=sid)).status

    assert asyncio.run(scenario()) == (200, True, 400)


def test_a_post_failing_on_a_session_that_ended_meanwhile_gets_400_not_500() -> None:
    """The app ends the session while the POST's first packet is handled; its second
    packet (an upgrade) then fails on the closed session."""

    async def scenario() -> tuple[int, bool]:
        eio = engineio.AsyncServer(async_mode="asgi", monitor_clients=False, async_handlers=False)
        install_engineio(eio, CompatConfig())

        @eio.on("message")
        async def message(sid: str, data: Any) -> None:
            await eio.disconnect(sid)

        app = engineio.ASGIApp(eio, engineio_path="socket.io")
        sid = await handshake(app)
        posted = await request(app, "POST", "4bye\x1e5", sid=sid)
        return posted.status, sid in eio.sockets

    assert asyncio.run(scenario()) == (400, False)


def test_a_chunked_post_is_read_whole() -> None:
    async def scenario() -> tuple[int, str]:
        app = socketio_app()
        app.engineio_server.on("echo", lambda sid, data: data)
        sid = await _connected_polling(app)
        posted = await request(app, "POST", '421["echo","in three parts"]', chunks=3, sid=sid)
        return posted.status, (await request(app, sid=sid)).body

    assert asyncio.run(scenario()) == (200, '431["in three parts"]')


def test_a_chunked_post_larger_than_the_limit_is_refused() -> None:
    async def scenario() -> tuple[int, int]:
        app = socketio_app(max_http_buffer_size=100)
        sid = await _connected_polling(app)
        body = '42["echo","' + "x" * 200 + '"]'
        posted = await request(app, "POST", body, chunks=4, sid=sid)
        return posted.status, (await request(app, sid=sid)).status

    assert asyncio.run(scenario()) == (400, 400)


def test_answers_carry_their_length() -> None:
    async def scenario() -> list[tuple[str | None, int]]:
        app = socketio_app()
        replies = [await request(app)]
        sid = json.loads(replies[0].body[1:])["sid"]
        replies.append(await request(app, "POST", "40", sid=sid))
        replies.append(await request(app, transport="nope"))
        return [(r.headers.get("content-length"), len(r.body.encode())) for r in replies]

    for length, size in asyncio.run(scenario()):
        assert length == str(size)


def test_a_websocket_for_an_upgraded_session_is_accepted_then_closed() -> None:
    async def scenario() -> tuple[bool, str | None, str | None]:
        app = socketio_app()
        app.engineio_server.on("echo", lambda sid, data: data)
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        ws = WebSocket(app, sid=sid)
        assert await ws.accepted()
        ws.send("2probe")
        await ws.receive()
        await pending
        ws.send("5")
        second = WebSocket(app, sid=sid)
        accepted, closed = await second.accepted(), await second.receive()
        ws.send('421["echo","still here"]')
        still = await ws.receive()
        await ws.close()
        return accepted, closed, still

    assert asyncio.run(scenario()) == (True, None, '431["still here"]')


def test_a_websocket_during_the_upgrade_is_accepted_then_closed() -> None:
    async def scenario() -> tuple[bool, str | None, bool]:
        app = socketio_app()
        sid = await _connected_polling(app)
        ws = WebSocket(app, sid=sid)
        assert await ws.accepted()
        ws.send("2probe")
        await ws.receive()
        second = WebSocket(app, sid=sid)
        accepted, closed = await second.accepted(), await second.receive()
        return accepted, closed, session(app, sid).upgrading

    assert asyncio.run(scenario()) == (True, None, True)


def _nested(depth: int) -> str:
    """A JSON array ``depth`` levels deep."""
    return "[" * depth + '"deep"' + "]" * depth


def test_a_packet_nested_past_the_limit_closes_the_connection_before_it_is_decoded() -> None:
    async def scenario() -> tuple[str | None, str | None]:
        app = socketio_app(CompatConfig(max_json_depth=20))
        app.engineio_server.on("echo", lambda sid, data: data)
        ws = WebSocket(app)
        assert await ws.accepted()
        await ws.receive()
        ws.send("40")
        await ws.receive()
        ws.send(f'421["echo",{_nested(19)}]')  # 20 levels with the packet's own array
        at_the_limit = await ws.receive()
        ws.send(f'422["echo",{_nested(20)}]')
        past_it = await ws.receive()
        await ws.close()
        return at_the_limit, past_it

    at_the_limit, past_it = asyncio.run(scenario())
    assert at_the_limit == f"431[{_nested(19)}]"
    assert past_it is None


def test_a_deep_packet_over_polling_ends_the_session() -> None:
    async def scenario() -> tuple[int, str]:
        app = socketio_app()  # the default limit, 100
        sid = await _connected_polling(app)
        pending = await _pending_poll(app, sid)
        posted = await request(app, "POST", f'42["echo",{_nested(600)}]', sid=sid)
        return posted.status, (await pending).body

    assert asyncio.run(scenario()) == (200, "1")


def test_a_bare_engineio_server_gets_the_fixes_too() -> None:
    async def scenario() -> tuple[int, int, str | None]:
        eio = engineio.AsyncServer(async_mode="asgi", monitor_clients=False)
        install_engineio(eio, CompatConfig())
        app = engineio.ASGIApp(eio, engineio_path="socket.io")
        sid = await handshake(app)
        unknown = await request(app, "POST", "8", sid=sid)
        after = await request(app, "POST", "4x", sid=sid)
        opened = await request(app)
        return unknown.status, after.status, opened.headers.get("content-length")

    unknown, after, length = asyncio.run(scenario())
    assert (unknown, after) == (400, 400) and length is not None


def test_a_request_whose_client_left_before_it_arrived_ends_quietly() -> None:
    async def scenario() -> list[dict[str, Any]]:
        app = socketio_app()
        sid = await handshake(app)
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/socket.io/",
            "query_string": f"EIO=4&transport=polling&sid={sid}".encode(),
            "headers": [(b"content-length", b"5")],
            "client": ("127.0.0.7", 40000),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), 2.0)  # raises nothing
        return sent

    assert asyncio.run(scenario()) == []


def test_a_body_past_the_limit_is_not_read_whole() -> None:
    """Every supported python-engineio: at most the limit and one read of a POST too large
    (the older ones read every body whole, protocol/body_limit.py)."""

    async def scenario() -> tuple[int, int]:
        app = socketio_app(max_http_buffer_size=1000)
        sid = await handshake(app)
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/socket.io/",
            "query_string": f"EIO=4&transport=polling&sid={sid}".encode(),
            "headers": [(b"content-length", b"1000000")],
            "client": ("127.0.0.7", 40000),
        }
        read = 0
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal read
            read += 500
            return {"type": "http.request", "body": b"4" * 500, "more_body": read < 1_000_000}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(app(scope, receive, send), 2.0)
        return next(m["status"] for m in sent if m["type"] == "http.response.start"), read

    status, read = asyncio.run(scenario())
    assert status == 400 and read <= 1500
