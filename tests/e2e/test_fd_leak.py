"""The master closes its copy of every handed-off socket: no fd grows with traffic.

2,000 short connections (a polling handshake each) from many source addresses; the master's
open-fd count must come back to where it was. A leak of one fd per connection would show as
+2,000, a leak on some path (a fallback, an error) as a smaller but non-zero difference.
"""

from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from tests.harness import SockdLauncher, SourceAddresses, gather_bounded

CONNECTIONS = 2000
CONCURRENCY = 8
REQUEST = (
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
)


async def _handshake(port: int, source_ip: str) -> bytes:
    """Open TCP, send an Engine.IO polling handshake, read the whole answer, close."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, local_addr=(source_ip, 0)), 10.0
    )
    try:
        writer.write(REQUEST)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10.0)
    finally:
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 5.0)


async def _burst(port: int, count: int, sources: list[str]) -> list[str]:
    """``count`` handshakes spread over ``sources``; a description of each failure."""
    results = await gather_bounded(
        (_handshake(port, sources[i % len(sources)]) for i in range(count)), CONCURRENCY
    )
    failures = []
    for i, result in enumerate(results):
        if isinstance(result, BaseException):
            failures.append(f"#{i}: {result!r}")
        elif not result.startswith(b"HTTP/1.1 200") or b'"sid"' not in result:
            failures.append(f"#{i}: {result[:120]!r}")
    return failures


def _settled_fds(master: psutil.Process, target: int | None, timeout: float) -> int:
    """The fd count once it holds still (or reaches ``target``), polled with a deadline."""
    deadline = time.monotonic() + timeout
    last, stable = master.num_fds(), 0
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = master.num_fds()
        if target is not None and now == target:
            return now
        stable = stable + 1 if now == last else 0
        last = now
        if target is None and stable >= 10:
            return now
    return last


@pytest.mark.timeout(240)
def test_master_fd_count_is_unchanged_after_two_thousand_connections(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """num_fds of the master before == after 2,000 handed-off connections."""
    proc = sockd(workers=2, sticky=True)
    master = psutil.Process(proc.pid)
    sources = source_addresses(50)

    warmup = asyncio.run(_burst(proc.port, 50, sources))
    assert warmup == [], warmup[:5]
    before = _settled_fds(master, None, 10.0)

    failures = asyncio.run(_burst(proc.port, CONNECTIONS, sources))
    assert failures == [], f"{len(failures)} of {CONNECTIONS} handshakes failed: {failures[:5]}"

    after = _settled_fds(master, before, 15.0)
    assert after == before, f"master fds: {before} before, {after} after {CONNECTIONS} connections"
