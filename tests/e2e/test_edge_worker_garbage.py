"""A bounded, seeded stream of garbage at a real worker, and what must hold afterwards.

Malformed and oversized request heads, WebSocket frames that break the protocol or
announce more than the limit, deep and malformed Socket.IO packets, Engine.IO packets of
unknown types, over WebSocket and long-polling. Afterwards no process has exited, the
worker's descriptors are back at their count before the stream, its RSS grew by a bounded
amount, nothing was logged with a traceback, the log has a line per kind of error rather
than one per connection, and a normal client gets its echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random

import psutil
import pytest

from tests.harness import SockdLauncher, SourceAddresses, gather_bounded, open_clients

PROTOCOL_APP = "tests.apps.protocol_app:sio"
HEADER_TIMEOUT = 1.0
RSS_BOUND_MIB = 32
UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: sockd\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
)


def _frame(opcode: int, payload: bytes, announced: int | None = None) -> bytes:
    """A client's frame (masked with a zero key) announcing ``announced`` bytes."""
    length = len(payload) if announced is None else announced
    if length < 126:
        size = bytes([0x80 | length])
    elif length < 1 << 16:
        size = bytes([0x80 | 126]) + length.to_bytes(2, "big")
    else:
        size = bytes([0x80 | 127]) + length.to_bytes(8, "big")
    return bytes([0x80 | opcode]) + size + b"\0\0\0\0" + payload


def _heads(rng: random.Random) -> list[bytes]:
    garbage = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))) for _ in range(20)]
    return [
        *garbage,
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
        b"GET / HTTP/1.1\r\nCookie: " + b"c" * 200_000 + b"\r\n\r\n",
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n",  # never ends
        b"POST /socket.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
    ]


def _websocket_garbage(rng: random.Random) -> list[bytes]:
    deep = b'42["echo",' + b"[" * 700 + b"1" + b"]" * 700 + b"]"
    messages = [
        _frame(0x1, b"4" + deep),
        _frame(0x1, b"9"),
        _frame(0x1, b'40{"x":'),
        _frame(0x1, b"\xff\xfe"),
        _frame(0x2, b"", announced=1 << 40),
        _frame(0x0, b"continuation first"),
        _frame(0xB, b"reserved opcode"),
        _frame(0x1, bytes(rng.randrange(256) for _ in range(300))),
    ]
    return [UPGRADE + message for message in messages]


def _polling_garbage() -> list[bytes]:
    bodies = [b"7", b"4" + b"[" * 700, b"42{}", b"\x1e\x1e", b"b!!!", b"41/nope," * 50]
    return [
        b"POST /socket.io/?EIO=4&transport=polling&sid=nosuch HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        for body in bodies
    ]


async def _throw(port: int, source: str, data: bytes) -> None:
    """Send ``data``, then wait a bounded time for the worker to close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        with contextlib.suppress(TimeoutError, ConnectionError):
            while await asyncio.wait_for(reader.read(1 << 16), HEADER_TIMEOUT * 4):
                pass
    finally:
        writer.close()


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.timeout(120)
def test_garbage_leaves_the_worker_whole(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    sources = source_addresses(3)
    proc = sockd("--header-timeout", str(HEADER_TIMEOUT), app=PROTOCOL_APP)
    [worker_pid] = proc.worker_pids()
    worker = psutil.Process(worker_pid)

    async def echo() -> None:
        async with open_clients(proc.port, [sources[2]], ["polling", "websocket"]) as (client,):
            assert await client.call("echo", "still here") == "still here"

    asyncio.run(echo())  # warm: what a first client makes the worker open
    fds_before, rss_before = _fds(worker_pid), worker.memory_info().rss / 2**20
    mark = proc.line_count()
    rng = random.Random(15)
    stream = _heads(rng) + _websocket_garbage(rng) + _polling_garbage()
    stream = stream * 3
    rng.shuffle(stream)

    async def throw_all() -> list[object]:
        throws = (_throw(proc.port, sources[n % 2], data) for n, data in enumerate(stream))
        return await gather_bounded(throws, 16)

    results = asyncio.run(throw_all())
    assert not [r for r in results if isinstance(r, BaseException)]
    asyncio.run(echo())
    fds_after, rss_after = _fds(worker_pid), worker.memory_info().rss / 2**20
    log = proc.lines()[mark:]
    worker_lines = [line for line in log if "[worker" in line and "WARNING" in line]
    print(f"{len(stream)} garbage connections: worker fds {fds_before} -> {fds_after}, RSS "
          f"{rss_before:.1f} -> {rss_after:.1f} MiB, {len(worker_lines)} warnings")  # fmt: skip
    print("\n".join(worker_lines))
    assert proc.worker_pids() == [worker_pid] and psutil.Process(proc.pid).is_running()
    assert not [line for line in log if "exited" in line or "Traceback" in line]
    assert fds_after <= fds_before
    assert rss_after - rss_before < RSS_BOUND_MIB
    assert len(worker_lines) <= 20, "a line per kind of error, not one per connection"
