"""Property tests of the worker's entry points, in-process: whatever a client sends, the
worker answers or closes, raises nothing, keeps nothing, and serves the next client.

Four entry points: HTTP requests to the Engine.IO endpoint, Engine.IO payloads of a
session (long-polling), Socket.IO packets (over WebSocket), and raw bytes (heads and
WebSocket frames) to the worker's uvicorn protocols. After each batch a normal client
still gets its echo; nothing is logged with a traceback (an exception the libraries caught
and logged is a crash hidden); the protocols hold no connection once their clients are gone.
Bounded for CI: tens of examples per property, each input small, a few seconds in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tracemalloc
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sockd.worker.compat.install import CompatConfig
from tests.unit.clocks import advance, run_shifted
from tests.unit.worker.asgi_driver import WebSocket, handshake, request, socketio_app
from tests.unit.worker.hosting.test_uvicorn_adapter_edge import (
    GET,
    LIMITS,
    connect,
    hosted,
    masked,
    read_all,
    send,
)

FUZZ = settings(
    max_examples=40,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
)
#: What one batch of garbage may leave allocated once it is handled and collected.
RETAINED_BOUND = 2 * 1024 * 1024


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or "exception" in record.getMessage().lower():
            self.records.append(record)


@contextlib.contextmanager
def no_tracebacks() -> Iterator[None]:
    """Fails if anything is logged with a traceback inside (an exception the libraries
    caught and logged, or asyncio's report of a protocol callback that raised)."""
    handler = _Tracebacks()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    assert not handler.records, [
        (record.getMessage(), logging.Formatter().formatException(record.exc_info))
        for record in handler.records[:1]
        if record.exc_info
    ] or handler.records[:3]


def _app() -> Any:
    app = socketio_app(CompatConfig(max_json_depth=32), max_http_buffer_size=4096)
    app.engineio_server.on("echo", lambda sid, data: data)
    return app


async def _echo_over_polling(app: Any) -> str:
    sid = await handshake(app)
    assert (await request(app, "POST", "40", sid=sid)).status == 200
    await request(app, sid=sid)
    assert (await request(app, "POST", '421["echo","still"]', sid=sid)).status == 200
    return (await request(app, sid=sid)).body


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
methods = st.sampled_from(["GET", "POST", "OPTIONS", "PUT", "DELETE", "HEAD", "PATCH"])
query_values = st.one_of(st.none(), st.sampled_from(["4", "3", "polling", "websocket"]), texts)


@FUZZ
@given(st.lists(st.tuples(methods, query_values, query_values, texts), min_size=1, max_size=8))
def test_any_http_request_is_answered(requests: list[tuple[str, Any, Any, str]]) -> None:
    async def scenario() -> list[int]:
        app = _app()
        sid = await handshake(app)
        statuses = []
        for method, eio, transport, body in requests:
            await app.engineio_server.eio.send(sid, "x")  # a poll has something to answer
            query = {"EIO": eio, "transport": transport, "sid": sid}
            query = {key: value for key, value in query.items() if value is not None}
            statuses.append((await request(app, method, body, **query)).status)
        assert await _echo_over_polling(app) == '431["still"]'
        return statuses

    with no_tracebacks():
        statuses = asyncio.run(scenario())
    assert set(statuses) <= {200, 400, 405}


packet_types = st.sampled_from("0123456789b")
socketio_types = st.sampled_from("0123456789")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)
deep = st.integers(1, 120).map(lambda n: "[" * n + "1" + "]" * n)
socketio_data = st.one_of(json_values.map(json.dumps), deep, texts)
socketio_packets = st.builds(
    lambda kind, nsp, ack, data: f"{kind}{nsp}{ack}{data}",
    socketio_types,
    st.sampled_from(["", "/", "/nope,", "/,"]),
    st.sampled_from(["", "1", "99999999999999999999", "-1"]),
    socketio_data,
)
engineio_packets = st.one_of(
    st.builds(lambda kind, data: kind + data, packet_types, texts),
    socketio_packets.map(lambda packet: "4" + packet),
)


@FUZZ
@given(st.lists(engineio_packets, min_size=1, max_size=6), st.booleans())
def test_any_engineio_payload_is_answered_and_the_session_ends_or_goes_on(
    packets: list[str], chunked: bool
) -> None:
    async def scenario() -> tuple[int, str]:
        app = _app()
        sid = await handshake(app)
        posted = await request(app, "POST", "\x1e".join(packets), chunks=2 * chunked, sid=sid)
        assert await _echo_over_polling(app) == '431["still"]'
        return posted.status, sid

    with no_tracebacks():
        status, _ = asyncio.run(scenario())
    assert status in (200, 400)


@FUZZ
@given(st.lists(socketio_packets, min_size=1, max_size=6))
def test_any_socketio_packet_over_websocket_is_handled_or_closes(packets: list[str]) -> None:
    async def scenario() -> None:
        app = _app()
        ws = WebSocket(app)
        assert await ws.accepted()
        await ws.receive()
        ws.send("40")
        await ws.receive()
        for packet in packets:
            ws.send("4" + packet)
        await ws.close()
        assert not ws.task.cancelled() and ws.task.exception() is None
        fresh = WebSocket(app)
        assert await fresh.accepted()
        await fresh.receive()
        fresh.send("40")
        await fresh.receive()
        fresh.send('421["echo","still"]')
        assert await fresh.receive() == '431["still"]'
        await fresh.close()

    with no_tracebacks():
        asyncio.run(scenario())


raw_heads = st.one_of(
    st.binary(max_size=600),
    st.builds(
        lambda line, headers, end: line + b"".join(headers) + end,
        st.sampled_from([b"GET / HTTP/1.1\r\n", b"POST /x HTTP/1.0\r\n", b"GET /"]),
        st.lists(st.binary(max_size=80).map(lambda b: b + b"\r\n"), max_size=12),
        st.sampled_from([b"", b"\r\n", b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"]),
    ),
)
frames = st.builds(
    lambda opcode, payload, claimed, rsv1: masked(opcode, payload, claimed, rsv1),
    st.sampled_from([0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xF]),
    st.binary(max_size=200),
    st.one_of(st.none(), st.sampled_from([0, 125, 126, 70000, 1 << 24, 1 << 62])),
    st.booleans(),
)
upgrade = (
    b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@settings(FUZZ, max_examples=12)
@given(st.lists(raw_heads, min_size=1, max_size=8), st.lists(frames, min_size=1, max_size=8))
def test_any_bytes_leave_the_protocols_holding_nothing(
    heads: list[bytes], garbage_frames: list[bytes]
) -> None:
    async def scenario() -> tuple[int, int, bytes]:
        async with hosted() as host:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            socks = []
            for head in heads:
                sock = await connect(host)
                await send(sock, head)
                socks.append(sock)
            sock = await connect(host)
            await send(sock, upgrade + b"".join(garbage_frames))
            socks.append(sock)
            await advance(LIMITS.timeout + 1)  # every unfinished head times out
            for sock in socks:
                sock.close()
            await advance(1)
            retained = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            normal = await connect(host)
            await send(normal, GET[:-2] + b"Connection: close\r\n\r\n")
            answer = await read_all(normal)
            return host.open_connections, retained, answer

    with no_tracebacks():
        still_open, retained, answer = run_shifted(scenario())
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert still_open == 0
    assert retained < RETAINED_BOUND
