"""Room members on the official JavaScript client (tests/js/members.js), one node process
for all of them, run in the client namespace with ``ip netns exec``.

Each :class:`JsMember` is one client of that process, from an address of its own, seen by
the scenarios as a :class:`Member` is: ``news`` it received, and ``served``, when and where
each of its connects was served (``whoami`` answered, room joined unless its session was
recovered). It also keeps what each connect was: socket id, ``socket.recovered`` and the
app's view (host, rooms, whether the server recovered it). The script's times (its
``Date.now()``) are put on ``time.monotonic()``'s scale, so a gap is measured by the client
that had it, not by when this process read the line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from tests.e2e.js_recovery import JS_DIR
from tests.e2e.multihost.clients import Served
from tests.e2e.multihost.netns import exec_prefix
from tests.e2e.multihost.network import BALANCER, Network
from tests.harness import base_url

#: Bound on every member's first connect.
CONNECT_TIMEOUT = 30.0
#: Bound on the script's exit once told to stop.
EXIT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Connect:
    """One connect of a JavaScript member, as it reported it."""

    at: float
    host: str
    id: str
    #: ``socket.recovered`` in the client.
    recovered: bool
    #: The app's ``whoami``: host, pid, rooms, and whether the server recovered the socket.
    app: dict[str, Any]


class JsMember(Served):
    def __init__(self, source: str) -> None:
        self.source_ip = source
        self.served = []
        self.news: list[Any] = []
        self.connects: list[Connect] = []
        self.disconnects: list[str] = []
        self.errors: list[str] = []

    def __repr__(self) -> str:
        return f"<JsMember {self.source_ip} connects={len(self.connects)}>"

    def record(self, line: dict[str, Any], clock_offset: float) -> None:
        """One line of the script about this member (``clock_offset``: wall - monotonic)."""
        if "news" in line:
            self.news.append(line["news"])
        elif "served" in line:
            at = line["at"] / 1000 - clock_offset
            connect = Connect(at, line["served"], line["id"], line["recovered"], line["app"])
            self.connects.append(connect)
            self.served.append((at, connect.host))
        elif "disconnect" in line:
            self.disconnects.append(line["disconnect"])
        else:
            self.errors.append(line.get("error", repr(line)))


@contextlib.asynccontextmanager
async def js_members(
    net: Network, node: str, port: int, room: str, sources: Sequence[str]
) -> AsyncIterator[list[JsMember]]:
    """One member per source, connected through the balancer's ``port`` and in ``room``
    (each served once) while the context lasts; the script is told to stop on exit (its
    clients disconnect), and killed by pid if it does not."""
    members = [JsMember(source) for source in sources]
    command = [
        *exec_prefix(net.ns("client")), node, "members.js", base_url(port, BALANCER), room,
        *sources,
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    reading = asyncio.get_running_loop().create_task(_read(proc, members))
    try:
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not all(m.served for m in members):
            if reading.done() or time.monotonic() > deadline:
                waiting = [m for m in members if not m.served]
                why = reading.exception() if reading.done() else "timed out"
                raise AssertionError(
                    f"{len(waiting)} members not served ({why}): {waiting[:3]} "
                    f"{[m.errors for m in waiting[:3]]} {await _stderr(proc)}"
                )
            await asyncio.sleep(0.05)
        yield members
        if reading.done() and reading.exception() is not None:
            raise AssertionError(f"reading members.js stopped: {reading.exception()!r}")
    finally:
        await _stop(proc, reading)


async def _read(proc: asyncio.subprocess.Process, members: list[JsMember]) -> None:
    assert proc.stdout is not None
    clock_offset = time.time() - time.monotonic()
    while line := await proc.stdout.readline():
        message = json.loads(line)
        if "c" in message:
            members[message["c"]].record(message, clock_offset)
        else:
            raise AssertionError(f"members.js: {message}")


async def _stderr(proc: asyncio.subprocess.Process) -> str:
    if proc.returncode is None or proc.stderr is None:
        return ""
    return (await proc.stderr.read()).decode(errors="replace")[-2000:]


async def _stop(proc: asyncio.subprocess.Process, reading: asyncio.Task[None]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), EXIT_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reading, 1.0)
    reading.cancel()
