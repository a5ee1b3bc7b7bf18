"""Garbage at a real sockd, in every sticky-key mode, and what must hold afterwards.

A bounded, seeded stream: random bytes, PROXY headers cut short, request heads larger
than the master's peek, and slowloris heads trickled in within the peek timeout, from a
trusted proxy's address and from direct clients. Afterwards no master or worker has
exited, the master's open descriptors (``/proc/PID/fd``) are back at their count before
the stream, its RSS grew by a bounded amount, and a normal client connects and gets an
echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import struct

import psutil
import pytest

from sockd.supervisor.routing.keys.proxy_protocol import V2_SIGNATURE
from tests.harness import (
    SockdLauncher,
    SourceAddresses,
    gather_bounded,
    open_clients,
    wait_until_sync,
)

#: The arguments of each sticky-key mode; TRUSTED stands for the trusted proxy's address.
MODES = {
    "ip": (),
    "proxy-protocol": ("--sticky-key", "proxy-protocol", "--trusted-proxy", "TRUSTED"),
    "forwarded": ("--sticky-key", "forwarded", "--trusted-proxy", "TRUSTED"),
    "sid": ("--sticky-key", "sid"),
}
PEEK_TIMEOUT = 1.0
#: Growth of the master's RSS the stream may cause (its peeks read 16 KiB at most each).
RSS_BOUND = 16 * 1024 * 1024
HEAD = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: sockd\r\n"


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _truncated_proxy_header(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        header = b"PROXY TCP4 203.0.113.%d 10.0.0.1 %d 443\r\n" % (
            rng.randrange(256),
            rng.randrange(65536),
        )
    else:
        block = bytes(rng.randrange(256) for _ in range(12))
        header = V2_SIGNATURE + b"\x21\x11" + struct.pack("!H", len(block)) + block
    return header[: rng.randrange(1, len(header))]


def _stream(
    rng: random.Random, trusted: str, clients: list[str]
) -> list[tuple[str, list[bytes], float]]:
    """(source address, chunks, seconds between chunks) of every garbage connection."""
    sources = [trusted, *clients]
    stream = []
    for _ in range(60):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
        stream.append((rng.choice(sources), [blob], 0.0))
    for _ in range(30):
        stream.append((trusted, [_truncated_proxy_header(rng)], 0.0))
    for _ in range(6):  # larger than the master's 16 KiB peek, never ending
        stream.append((rng.choice(sources), [HEAD + b"X-Filler: " + b"a" * 40_000], 0.0))
    for _ in range(30):  # a byte at a time, all within the peek timeout, then nothing
        head = HEAD[: rng.randrange(10, len(HEAD))]
        step = max(1, len(head) // 4)
        chunks = [head[i : i + step] for i in range(0, len(head), step)]
        stream.append((rng.choice(sources), chunks, PEEK_TIMEOUT * 0.8 / len(chunks)))
    # What the property tests once found (tests/unit/supervisor/routing/test_keys_fuzz.py):
    # each made the master's peek callback raise, again on every loop turn.
    stream.append((rng.choice(sources), [b"GET //[x?sid=1.0 HTTP/1.1\r\n\r\n"], 0.0))
    stream.append((trusted, [HEAD + b"X-Forwarded-For: 1.2.3.4:" + b"9" * 5000 + b"\r\n\r\n"], 0.0))
    rng.shuffle(stream)
    return stream


async def _throw(port: int, source: str, chunks: list[bytes], pause: float) -> None:
    """Send ``chunks`` (``pause`` apart), then wait a bounded time for sockd to close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(pause)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(1 << 20), PEEK_TIMEOUT * 3)
    except OSError:
        pass  # refused half-way (a reset): that is one of the answers garbage gets
    finally:
        writer.close()


async def _garbage(port: int, stream: list[tuple[str, list[bytes], float]]) -> None:
    results = await gather_bounded(
        (_throw(port, source, chunks, pause) for source, chunks, pause in stream), 24
    )
    unexpected = [r for r in results if isinstance(r, BaseException)]
    assert not unexpected, unexpected[:3]


async def _echo(port: int, source: str) -> None:
    async with open_clients(port, [source], ["polling", "websocket"]) as (client,):
        assert await client.call("echo", "still here") == "still here"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", list(MODES))
def test_garbage_leaves_sockd_whole(
    sockd: SockdLauncher, source_addresses: SourceAddresses, mode: str
) -> None:
    trusted = str(source_addresses.network()[2])
    *clients, normal = source_addresses(11)
    args = [trusted if arg == "TRUSTED" else arg for arg in MODES[mode]]
    proc = sockd(*args, "--peek-timeout", str(PEEK_TIMEOUT), workers=2)
    master = psutil.Process(proc.pid)
    workers = [psutil.Process(pid) for pid in proc.slot_pids().values()]
    asyncio.run(_echo(proc.port, normal))  # warm: what a first client makes the master open
    fds_before, rss_before = _fds(proc.pid), master.memory_info().rss
    mark = proc.line_count()

    asyncio.run(_garbage(proc.port, _stream(random.Random(mode), trusted, clients)))

    wait_until_sync(lambda: _fds(proc.pid) <= fds_before, 10, "the master's fds back at rest")
    fds_after, rss_after = _fds(proc.pid), master.memory_info().rss
    print(
        f"{mode}: master fds {fds_before} -> {fds_after}, "
        f"RSS {rss_before / 2**20:.1f} -> {rss_after / 2**20:.1f} MiB"
    )
    assert rss_after - rss_before < RSS_BOUND
    assert master.is_running() and all(worker.is_running() for worker in workers)
    log = proc.lines()[mark:]
    assert not [line for line in log if "exited" in line or "Traceback" in line], log[-20:]
    master_lines = [line for line in log if "[master]" in line]
    print("\n".join(master_lines))
    assert len(master_lines) <= 12, "a line per kind of refusal, not one per connection"
    asyncio.run(_echo(proc.port, normal))
