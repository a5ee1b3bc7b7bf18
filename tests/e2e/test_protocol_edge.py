"""Issue 15's protocol gaps on a real sockd, spoken raw: what a broken or unusual client
gets, and what it costs the other clients.

Engine.IO packet types outside 0-6 close the session; a POST to a session the server just
closed gets 400 (python-engineio answered 500); a chunked POST body is read (it was
answered ``ok`` and dropped); an HTTP/1.0 request gets a reply without chunked framing; a
Socket.IO packet nested deeper than ``--max-json-depth`` closes its connection with one log
line, and the worker's other clients are served meanwhile.
"""

from __future__ import annotations

import asyncio
import socket
import time

import psutil
import pytest

from tests.e2e.protocol_wire import Wire, frames_until_closed, payload, receive
from tests.harness import SockdLauncher, SockdProcess, SourceAddresses

PROTOCOL_APP = "tests.apps.protocol_app:sio"
PROMPT = 5.0


@pytest.fixture(scope="module")
def steady(sockd_module: SockdLauncher) -> SockdProcess:
    return sockd_module(app=PROTOCOL_APP, workers=2, sticky=True)


@pytest.fixture
def source(source_addresses: SourceAddresses) -> str:
    return source_addresses(1)[0]


def test_unknown_packet_types_close_the_session(steady: SockdProcess, source: str) -> None:
    async def scenario() -> tuple[int, str, int, list[str | bytes], bool]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            pending = asyncio.ensure_future(wire.poll(sid, timeout=PROMPT))
            await asyncio.sleep(0.3)
            posted = await wire.push(sid, "7")
            ended = await pending
            later = await wire.poll(sid)
            ws, ws_sid = await wire.socketio_websocket()
            await ws.send("8hello")
            frames = await frames_until_closed(ws, PROMPT)
            return posted.status, ended.text, later.status, frames, await wire.has_session(ws_sid)

    posted, ended, later, frames, alive = asyncio.run(scenario())
    assert (posted, ended, later) == (400, "1", 400)
    assert frames == [] and not alive


def test_a_post_to_a_session_the_server_just_closed_gets_400(
    steady: SockdProcess, source: str
) -> None:
    async def scenario() -> tuple[int, int]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            malformed = await wire.push(sid, "42{}")  # closes the session
            return malformed.status, (await wire.push(sid, '42["message","late"]')).status

    assert asyncio.run(scenario()) == (200, 400)


def _raw(port: int, source: str, request: bytes) -> bytes:
    """Send ``request`` on a connection of its own; everything until the server closes
    (or stops sending for a moment)."""
    with socket.create_connection(("127.0.0.1", port), PROMPT, (source, 0)) as sock:
        sock.sendall(request)
        sock.settimeout(1.0)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            pass
    return data


def test_a_chunked_post_is_read(steady: SockdProcess, source: str) -> None:
    async def scenario() -> tuple[bytes, str]:
        async with Wire(steady.port, source) as wire:
            sid = await wire.socketio_polling()
            body = b'42["message","in chunks"]'
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:9], body[9:]))
            request = (
                (
                    f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                    "Host: sockd\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                ).encode()
                + chunks
                + b"0\r\n\r\n"
            )
            answer = await asyncio.to_thread(_raw, steady.port, source, request)
            return answer, (await wire.poll(sid)).text

    answer, polled = asyncio.run(scenario())
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok")
    assert payload(polled) == ['42["message-back","in chunks"]']


def test_http_1_0_gets_no_chunked_reply(steady: SockdProcess, source: str) -> None:
    answer = _raw(steady.port, source, b"GET /socket.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in head.lower()
    assert f"content-length: {len(body)}".encode() in head.lower()
    assert body.startswith(b"0{")


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.timeout(120)
def test_a_deep_packet_closes_its_connection_and_costs_the_others_nothing(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """The figure of issue 15: the worker's CPU per malformed packet (600 levels deep, 1.2
    KB), and the echo latency another client of that worker sees meanwhile."""
    proc = sockd(app=PROTOCOL_APP)
    [worker] = proc.worker_pids()
    bad_source, good_source = source_addresses(2)
    deep = f'42["echo",{_nested(599)}]'
    mark = proc.line_count()

    async def attack(wire: Wire, count: int) -> None:
        for _ in range(count):
            ws, _ = await wire.socketio_websocket()
            await ws.send(deep)
            assert await frames_until_closed(ws, PROMPT) == []

    async def scenario() -> tuple[float, float, list[float]]:
        async with Wire(proc.port, bad_source) as bad, Wire(proc.port, good_source) as good:
            ws, _ = await good.socketio_websocket()
            cpu = psutil.Process(worker).cpu_times()
            started = time.monotonic()
            attacking = asyncio.ensure_future(attack(bad, 100))
            latencies = []
            while not attacking.done():
                sent = time.monotonic()
                await ws.send('421["echo","fine"]')
                assert await receive(ws) == '431["fine"]'
                latencies.append(time.monotonic() - sent)
            await attacking
            spent = psutil.Process(worker).cpu_times()
            used = spent.user + spent.system - cpu.user - cpu.system
            return used / 100, time.monotonic() - started, latencies

    cpu_per_packet, took, latencies = asyncio.run(scenario())
    log = proc.lines()[mark:]
    print(
        f"worker CPU per 600-deep packet (its connection and handshake included): "
        f"{cpu_per_packet * 1e3:.2f} ms; 100 in {took:.1f}s; the other client's echo: "
        f"max {max(latencies) * 1e3:.0f} ms over {len(latencies)} acks; "
        f"{len(log)} log lines, {sum('Traceback' in line for line in log)} tracebacks"
    )
    assert not [line for line in log if "Traceback" in line or "RecursionError" in line]
    assert sum("malformed Socket.IO packet" in line for line in log) <= 2
    assert len(deep) < 1300
