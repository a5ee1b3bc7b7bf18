"""A long-polling Socket.IO session where every request opens a new TCP connection.

That is the hardest case for stickiness through a TCP balancer: each request is routed
afresh, by HAProxy to a host and by that host's master to a worker, and must still meet
the process that holds the Engine.IO session. A request that misses it gets HTTP 400
("Invalid session" / unknown sid), which is what the test counts.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field

import aiohttp

from tests.e2e.multihost.network import BALANCER

RS = "\x1e"
REQUEST_TIMEOUT = 15.0


class SessionBroken(Exception):
    """A request was refused or answered with something other than 200."""


@dataclass
class PollingOutcome:
    source: str
    requests: int = 0
    hosts: set[str] = field(default_factory=set)
    #: What went wrong, e.g. ``POST 400 Invalid session``; empty when all went well.
    failures: list[str] = field(default_factory=list)


class PollingSession:
    """One session from ``source`` to the balancer on ``port``, over long-polling only."""

    def __init__(self, source: str, port: int = 80) -> None:
        self.outcome = PollingOutcome(source)
        self.source = source
        self.port = port
        self.sid = ""
        self._next_ack = 0

    async def run(self, rounds: int) -> PollingOutcome:
        """Handshake, join the namespace, ``rounds`` acked ``whoami`` events, then close."""
        # force_close: no keep-alive, so every request is a new connection through HAProxy.
        connector = aiohttp.TCPConnector(local_addr=(self.source, 0), force_close=True)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            self._http = http
            try:
                await self._open()
                for _ in range(rounds):
                    answer = await self._call("whoami")
                    self.outcome.hosts.add(answer["host"])
                await self._request("POST", "1")
            except SessionBroken as exc:
                self.outcome.failures.append(str(exc))
        return self.outcome

    async def _open(self) -> None:
        opened = await self._request("GET", sid=False)
        assert opened.startswith("0"), opened
        self.sid = json.loads(opened[1:])["sid"]
        await self._request("POST", "40")
        while not any(p.startswith("40") for p in await self._poll()):
            pass

    async def _call(self, event: str) -> dict:
        self._next_ack += 1
        ack = self._next_ack
        await self._request("POST", f"42{ack}" + json.dumps([event]))
        while True:
            for packet in await self._poll():
                if packet.startswith(f"43{ack}["):
                    return json.loads(packet[len(f"43{ack}") :])[0]

    async def _poll(self) -> list[str]:
        packets = (await self._request("GET")).split(RS)
        for packet in packets:
            if packet == "2":  # the server's ping
                await self._request("POST", "3")
            elif packet.startswith(("1", "41", "44")):
                raise SessionBroken(f"the server ended the session: {packet[:60]!r}")
        return packets

    async def _request(self, method: str, body: str | None = None, sid: bool = True) -> str:
        query = {"EIO": "4", "transport": "polling", **({"sid": self.sid} if sid else {})}
        url = f"http://{BALANCER}:{self.port}/socket.io/?{urllib.parse.urlencode(query)}"
        self.outcome.requests += 1
        try:
            async with self._http.request(method, url, data=body) as response:
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SessionBroken(f"{method} failed: {exc!r}") from exc
        if response.status != 200:
            raise SessionBroken(f"{method} {response.status} {text[:60]}")
        return text
