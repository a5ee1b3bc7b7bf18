"""The test's clients, in the client namespace, each from an address of its own.

A scenario is an ``async`` function run by :func:`run_in` on an event loop in a thread that
entered the client namespace, so every socket it opens starts there and reaches the
balancer over the bridge. Clients are the harness's python-socketio :class:`Client`, bound
to their source address.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from tests.e2e.multihost.netns import call_in
from tests.e2e.multihost.network import BALANCER, Network
from tests.harness import Client, gather_bounded

FRONTEND_PORT = 80


def run_in(
    net: Network, scenario: Callable[[], Awaitable[Any]], timeout: float, role: str = "client"
) -> Any:
    """Run ``scenario()`` to completion in ``role``'s namespace (the client's by default)."""

    def run() -> Any:
        return asyncio.run(asyncio.wait_for(scenario(), timeout))

    return call_in(net.ns(role), run, timeout=timeout + 10)


async def http_whoami(source: str, port: int = FRONTEND_PORT) -> dict[str, Any]:
    """``GET /whoami`` through the balancer from ``source``: host, worker pid, client seen."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(BALANCER, port, local_addr=(source, 0)), 10
    )
    try:
        writer.write(b"GET /whoami HTTP/1.1\r\nHost: sockd\r\nConnection: close\r\n\r\n")
        response = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), f"GET /whoami from {source}: {response[:200]!r}"
    return json.loads(body)


async def sources_by_host(
    sources: Sequence[str], port: int = FRONTEND_PORT
) -> dict[str, list[str]]:
    """host -> the sources whose new connections the balancer sends there."""
    answers = await gather_bounded((http_whoami(ip, port) for ip in sources), 32)
    failed = [a for a in answers if isinstance(a, BaseException)]
    assert not failed, f"{len(failed)} of {len(sources)} GET /whoami failed; first: {failed[0]!r}"
    groups: dict[str, list[str]] = {}
    for source, answer in zip(sources, answers, strict=True):
        assert answer["client"] == source, f"sockd saw {answer['client']} for {source}"
        groups.setdefault(answer["host"], []).append(source)
    return groups


class Served:
    """When a client was served, and by which host: ``served`` holds ``(time.monotonic(),
    host)`` for each time it was served again, so a test measures how long a lost host's
    clients took to be served elsewhere, whatever kind of client they are."""

    served: list[tuple[float, str]]

    @property
    def served_by(self) -> str | None:
        """The host that served this client last."""
        return self.served[-1][1] if self.served else None

    def served_elsewhere_after(self, since: float, lost: str) -> float | None:
        """Seconds from ``since`` until it was served by a host other than ``lost``."""
        for when, host in self.served:
            if when >= since and host != lost:
                return when - since
        return None


class Member(Client, Served):
    """A WebSocket client that, on every connect, asks where it is and joins its rooms."""

    def __init__(self, source: str, rooms: Sequence[str] = (), port: int = FRONTEND_PORT) -> None:
        super().__init__(port, source, ["websocket"], host=BALANCER)
        self.rooms = list(rooms)
        self.served = []
        self.errors: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def _on_connect(self) -> None:
        await super()._on_connect()
        # Not awaited here: the acks arrive through the client's own read loop.
        task = asyncio.get_running_loop().create_task(self._settle())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self) -> None:
        try:
            info = await self.call("whoami")
            for room in self.rooms:
                await self.call("join", room)
        except Exception as exc:  # a reconnect cut short: the next connect settles again
            self.errors.append(repr(exc))
            return
        self.served.append((time.monotonic(), info["host"]))


async def connect_members(members: Sequence[Member], timeout: float = 30.0) -> None:
    """Connect every member (16 at a time) and wait until each was served once."""
    results = await gather_bounded((m.connect() for m in members), 16)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"{len(failed)} of {len(members)} members failed to connect: {failed[0]!r}"
    deadline = time.monotonic() + timeout
    while not all(m.served for m in members):
        assert time.monotonic() < deadline, [m.errors for m in members if not m.served][:3]
        await asyncio.sleep(0.05)


async def close_all(clients: Sequence[Client]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def distribution(seconds: Sequence[float]) -> str:
    """``n=…, p50 …, p95 …, max …`` of reconnect times, for the printed figures."""
    ordered = sorted(seconds)
    if not ordered:
        return "n=0"

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]

    return (
        f"n={len(ordered)}, min {ordered[0]:.2f} s, p50 {pick(0.5):.2f} s, "
        f"p95 {pick(0.95):.2f} s, max {ordered[-1]:.2f} s"
    )
