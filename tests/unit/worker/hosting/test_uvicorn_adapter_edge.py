"""The worker's HTTP and WebSocket protocols bound what a client can make them hold.

uvicorn serves in-process here exactly as in a worker (``UvicornHost``, fed one end of a
socketpair per connection); the tests speak raw HTTP and RFC 6455 frames on the other end,
and move the loop's clock for the timeouts instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import zlib
from collections.abc import AsyncIterator
from typing import Any

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.uri import parse_uri

from sockd.worker.hosting.request_head import HeadLimits
from sockd.worker.hosting.uvicorn_adapter import UvicornHost
from tests.unit.clocks import advance, run_shifted

LIMITS = HeadLimits(timeout=10.0, max_line=200, max_size=1000, max_headers=10)
KEEP_ALIVE = 5.0
WS_MAX = 1000
#: Bound on any read: the in-process server answers within a few loop turns.
STEP = 2.0
GET = b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers ``ok`` to HTTP and echoes WebSocket messages."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    else:
        await receive()
        await send({"type": "websocket.accept"})
        while (event := await receive())["type"] == "websocket.receive":
            try:
                await send({"type": "websocket.send", "text": event.get("text") or "bytes"})
            except RuntimeError:  # the server closed meanwhile (uvicorn 0.52 says so this way)
                return


@contextlib.asynccontextmanager
async def hosted(deflate: bool = False) -> AsyncIterator[UvicornHost]:
    host = UvicornHost(
        app,
        log_level="warning",
        access_log=False,
        graceful_timeout=1.0,
        per_message_deflate=deflate,
        head_limits=LIMITS,
        keep_alive_timeout=KEEP_ALIVE,
        ws_max_size=WS_MAX,
    )
    assert await host.start()
    try:
        yield host
    finally:
        host.shut_down(0)
        await asyncio.wait_for(host.wait_closed(), STEP)


async def connect(host: UvicornHost) -> socket.socket:
    """A connection the worker serves, once its protocol is made (its clock started)."""
    ours, theirs = socket.socketpair()
    before = host.open_connections
    host.serve_socket(theirs, ("127.0.0.9", 40000))
    ours.setblocking(False)
    for _ in range(50):
        if host.open_connections > before:
            return ours
        await asyncio.sleep(0)
    raise AssertionError("the worker did not take the connection")


async def send(sock: socket.socket, data: bytes) -> None:
    """Send ``data`` and let the worker read it (a few loop turns) before the clock moves."""
    await asyncio.get_running_loop().sock_sendall(sock, data)
    for _ in range(10):
        await asyncio.sleep(0)


async def read_some(sock: socket.socket) -> bytes:
    """What arrives next; b"" once the server closed."""
    return await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 1 << 16), STEP)


async def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes."""
    data = b""
    while chunk := await read_some(sock):
        data += chunk
    return data


async def closed_now(sock: socket.socket) -> bool:
    """Whether the server has closed (checked without waiting for the clock)."""
    for _ in range(20):
        await asyncio.sleep(0)
    try:
        return sock.recv(1 << 16, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False


def test_a_silent_connection_is_closed_at_the_head_timeout_without_an_answer() -> None:
    async def scenario() -> tuple[bool, bool, bytes]:
        async with hosted() as host:
            sock = await connect(host)
            await advance(LIMITS.timeout - 1)
            early = await closed_now(sock)
            await advance(1.5)
            return early, await closed_now(sock), await read_all(sock)

    assert run_shifted(scenario()) == (False, True, b"")


def test_an_unfinished_head_gets_408_at_the_timeout() -> None:
    async def scenario() -> bytes:
        async with hosted() as host:
            sock = await connect(host)
            await send(sock, b"GET /x HTTP/1.1\r\nHost: a\r\n")
            await advance(LIMITS.timeout + 0.5)
            return await read_all(sock)

    assert run_shifted(scenario()).startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_heads_over_a_bound_are_refused_at_once_and_never_reach_the_app() -> None:
    heads = {
        414: b"GET /" + b"a" * 300 + b" HTTP/1.1\r\n",
        431: b"GET / HTTP/1.1\r\nCookie: " + b"a" * 300,  # refused before its line ends
        400: b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",  # httptools' own refusal
    }

    async def scenario() -> dict[int, bytes]:
        async with hosted() as host:
            answers = {}
            for status, head in heads.items():
                sock = await connect(host)
                await send(sock, head)
                answers[status] = await read_all(sock)
            return answers

    for status, answer in run_shifted(scenario()).items():
        assert answer.startswith(b"HTTP/1.1 %d " % status), answer
        assert answer.endswith(b"") and b"ok" not in answer.partition(b"\r\n\r\n")[2]


def test_too_many_headers_are_refused() -> None:
    async def scenario() -> bytes:
        async with hosted() as host:
            sock = await connect(host)
            await send(sock, b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * 11 + b"\r\n")
            return await read_all(sock)

    assert run_shifted(scenario()).startswith(b"HTTP/1.1 431 ")


def test_pipelined_requests_are_each_answered_and_each_head_checked() -> None:
    async def scenario() -> bytes:
        async with hosted() as host:
            sock = await connect(host)
            await send(sock, GET + GET + b"GET /" + b"a" * 300)
            return await read_all(sock)

    answers = run_shifted(scenario())
    # The refusal of the third waits for the answers to the first two.
    assert answers.count(b"HTTP/1.1 200 OK") == 2
    assert answers.rindex(b"HTTP/1.1 414 ") > answers.rindex(b"HTTP/1.1 200 OK")


def test_kept_alive_idle_connections_close_and_a_later_head_has_its_own_timeout() -> None:
    async def scenario() -> tuple[bytes, bool, bytes]:
        async with hosted() as host:
            idle = await connect(host)
            await send(idle, GET)
            first = await read_some(idle)
            await advance(KEEP_ALIVE + 0.5)
            idle_closed = await closed_now(idle)
            slow = await connect(host)
            await send(slow, GET)
            await read_some(slow)
            await advance(KEEP_ALIVE - 1)
            await send(slow, b"GET /y HTTP/1.1\r\n")  # a head begun: keep-alive is over
            await advance(LIMITS.timeout + 0.5)
            return first, idle_closed, await read_all(slow)

    first, idle_closed, slow = run_shifted(scenario())
    assert first.startswith(b"HTTP/1.1 200 OK") and idle_closed
    assert slow.startswith(b"HTTP/1.1 408 ")


def _client(deflate: bool = False) -> tuple[ClientProtocol, bytes]:
    extensions = [ClientPerMessageDeflateFactory()] if deflate else None
    client = ClientProtocol(parse_uri("ws://a/ws"), extensions=extensions)
    client.send_request(client.connect())
    return client, b"".join(client.data_to_send())


async def _handshake(host: UvicornHost, deflate: bool = False) -> tuple[socket.socket, Any]:
    sock = await connect(host)
    client, request = _client(deflate)
    await send(sock, request)
    client.receive_data(await read_some(sock))
    assert client.handshake_exc is None
    return sock, client


async def _close_code(sock: socket.socket, client: ClientProtocol) -> int | None:
    client.receive_data(await read_all(sock))
    return client.close_rcvd.code if client.close_rcvd else None


def masked(opcode: int, payload: bytes, length: int | None = None, rsv1: bool = False) -> bytes:
    """A client's frame (masked with a zero key), announcing ``length`` (default: its own)."""
    length = len(payload) if length is None else length
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        header = bytes([first, 0x80 | length])
    else:
        header = bytes([first, 0x80 | 127]) + length.to_bytes(8, "big")
    return header + b"\0\0\0\0" + payload


def test_a_frame_sent_with_the_upgrade_request_is_not_lost() -> None:
    async def scenario() -> bytes:
        async with hosted() as host:
            sock = await connect(host)
            _, request = _client()
            await send(sock, request + masked(0x1, b"hello"))
            data = b""
            while b"hello" not in data:
                data += await read_some(sock)
            return data.partition(b"\r\n\r\n")[2]

    assert run_shifted(scenario()) == b"\x81\x05hello"


def test_a_message_over_the_limit_is_closed_with_1009_from_its_frame_header() -> None:
    async def scenario() -> int | None:
        async with hosted() as host:
            sock, client = await _handshake(host)
            # Only the header of a 16 MiB frame: its payload never comes.
            await send(sock, masked(0x2, b"", length=16 << 20))
            return await _close_code(sock, client)

    assert run_shifted(scenario()) == 1009


def test_a_compressed_message_inflating_past_the_limit_is_closed_with_1009() -> None:
    async def scenario() -> tuple[str, int | None]:
        async with hosted(deflate=True) as host:
            sock, client = await _handshake(host, deflate=True)
            compressor = zlib.compressobj(wbits=-15)
            bomb = compressor.compress(b"\0" * WS_MAX * 100) + compressor.flush(zlib.Z_SYNC_FLUSH)
            assert len(bomb) < WS_MAX  # within the limit on the wire, 100 times it inflated
            await send(sock, masked(0x2, bomb[:-4], rsv1=True))
            return client.extensions[0].name, await _close_code(sock, client)

    assert run_shifted(scenario()) == ("permessage-deflate", 1009)
