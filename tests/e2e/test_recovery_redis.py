"""Connection state recovery over Redis (``--redis``, the Streams bus), with the official client.

The stream numbers stored packets, sessions live in Redis: a client whose worker was killed
recovers on its restarted worker, a client whose whole host died recovers on another sockd
sharing that Redis, and a Redis restart in the middle of the traffic loses nothing. A raw
client checks the offsets (stream ids) and the expired window there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import threading
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import pytest
import redis

from tests.e2e.js_recovery import (
    APP,
    apart,
    assert_all_once_in_order,
    assert_recovered,
    node_binary,
    run_recovery,
)
from tests.e2e.protocol_wire import Wire
from tests.e2e.recovery_wire import connect, event, say
from tests.harness import RedisServer, SockdLauncher, SourceAddresses, free_port, wait_until

WINDOW = "30"
SHORT_WINDOW = 2.0
#: Clients recovering at once on one worker: several times its Redis client's connections.
MANY = 24

T = TypeVar("T")


@pytest.fixture(scope="module")
def node() -> str:
    return node_binary()


@pytest.fixture
def recovery_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION", WINDOW)


def test_its_worker_killed(
    sockd: SockdLauncher, redis_server: str, node: str, recovery_on: None,
    source_addresses: SourceAddresses,
) -> None:  # fmt: skip
    proc = sockd(app=APP, workers=2, redis=redis_server)

    def kill(message: dict[str, Any]) -> None:
        os.kill(message["a"]["worker"], signal.SIGKILL)

    result = run_recovery(node, proc.port, apart(proc, source_addresses(8)), kill)
    assert_recovered(result)
    assert result["offsets"][0].count("-") == 1, "stream ids are the offsets"


def test_a_host_dies_and_its_client_recovers_on_another_sockd(
    sockd: SockdLauncher, redis_server: str, node: str, recovery_on: None,
    source_addresses: SourceAddresses,
) -> None:  # fmt: skip
    """A reaches host 1 through a relay (a load balancer); host 1 dies (every process
    SIGKILLed) and the relay sends A's reconnect to host 2, where B is."""
    one = sockd(app=APP, workers=1, redis=redis_server)
    two = sockd(app=APP, workers=1, redis=redis_server)
    with Relay(one.port) as relay:

        def host_dies(message: dict[str, Any]) -> None:
            one.kill_all()
            relay.target = two.port

        first, second = source_addresses(2)
        sources = (first, second)
        result = run_recovery(node, relay.port, sources, host_dies, port_b=two.port)
    assert_recovered(result)
    assert result["after"]["worker"] in two.slot_pids().values()


def test_a_redis_restart_mid_stream_loses_nothing(
    sockd: SockdLauncher, outage_redis: RedisServer, node: str, recovery_on: None,
    source_addresses: SourceAddresses,
) -> None:  # fmt: skip
    proc = sockd(app=APP, workers=2, redis=outage_redis.url)

    def restart(message: dict[str, Any]) -> None:
        outage_redis.restart()

    result = run_recovery(node, proc.port, apart(proc, source_addresses(8)), restart, steady=True)
    assert_all_once_in_order(result)
    assert result["confirmed"] == list(range(1, result["sent"] + 1)), "B was never cut off"
    assert not [e for e in result["events"] if "disconnect" in e], result["events"]


def test_offsets_replay_and_expiry_on_the_wire(
    sockd: SockdLauncher, redis_server: str, monkeypatch: pytest.MonkeyPatch,
    source_addresses: SourceAddresses,
) -> None:  # fmt: skip
    monkeypatch.setenv("SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION", str(SHORT_WINDOW))
    proc = sockd(app=APP, workers=2, redis=redis_server)

    async def scenario() -> None:
        mine, theirs = source_addresses(2)
        async with Wire(proc.port, mine) as wire, Wire(proc.port, theirs) as other:
            speaker, me = await connect(other), await connect(wire)
            await me.call("join", "r")
            await say(speaker, 1)
            [[_, _, offset]] = await me.events(1)
            await me.ws.close()
            await say(speaker, 2)
            await say(speaker, 3)
            back = await connect(wire, {"pid": me.pid, "offset": offset})
            assert back.sid == me.sid
            missed = [event(frame) for frame in back.early]
            assert [args[1]["n"] for args in missed] == [2, 3]
            assert all(args[2] > offset for args in missed)
            await back.ws.close()
            await asyncio.sleep(SHORT_WINDOW + 2.0)
            late = await connect(wire, {"pid": me.pid, "offset": missed[-1][2]})
            assert late.sid != me.sid and late.pid != me.pid and late.early == []

    asyncio.run(scenario())


def test_many_clients_recover_at_once_on_one_worker(
    sockd: SockdLauncher, redis_server: str, recovery_on: None,
    source_addresses: SourceAddresses,
) -> None:  # fmt: skip
    """As on a host that takes over a dead host's clients: their restores run at once on
    one worker, more of them than its Redis client has connections. Each waits its turn
    and recovers (they had failed at once with "Too many connections" and become fresh
    sessions, without their rooms and what they missed)."""
    proc = sockd(app=APP, workers=1, redis=redis_server)
    written = redis.Redis.from_url(redis_server)

    def in_redis(pid: str) -> bool:
        """The session's room is written through (as for a dead host's long-lived clients)."""
        return b'"r"' in (written.hget(f"socketio:recovery:s:{pid}", "rooms") or b"")

    async def scenario() -> None:
        speaker_source, *sources = source_addresses(1 + MANY)
        async with contextlib.AsyncExitStack() as stack:
            wires = [await stack.enter_async_context(Wire(proc.port, s)) for s in sources]
            speaking = await stack.enter_async_context(Wire(proc.port, speaker_source))
            speaker, sessions = await connect(speaking), await gather(connect(w) for w in wires)
            await gather(me.call("join", "r") for me in sessions)
            await wait_until(lambda: all(in_redis(me.pid) for me in sessions), 10, "the rooms")
            await say(speaker, 1)
            offsets = [events[0][-1] for events in await gather(me.events(1) for me in sessions)]
            await gather(me.ws.close() for me in sessions)
            await say(speaker, 2)
            claims = [{"pid": me.pid, "offset": o} for me, o in zip(sessions, offsets, strict=True)]
            back = await gather(connect(w, c) for w, c in zip(wires, claims, strict=True))
            assert [b.sid for b in back] == [me.sid for me in sessions], "not all recovered"
            missed = [[event(f) for f in b.early] for b in back]  # before the CONNECT reply
            assert [[args[1]["n"] for args in m] for m in missed] == [[2]] * MANY, missed

    try:
        asyncio.run(scenario())
    finally:
        written.close()
    assert not [line for line in proc.lines() if "cannot restore" in line]


async def gather(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """``asyncio.gather`` of a generator, as a list."""
    return list(await asyncio.gather(*awaitables))


class Relay:
    """A TCP relay on 127.0.0.1 to a port the test may change (a load balancer); source
    addresses pass through (it connects from the client's own address)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Relay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, address = self._listener.accept()
            except TimeoutError:
                continue
            try:
                upstream = socket.create_connection(
                    ("127.0.0.1", self.target), timeout=5, source_address=(address[0], 0)
                )
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        source.settimeout(None)
        while data := source.recv(65536):
            sink.sendall(data)
    for side in (source, sink):
        with contextlib.suppress(OSError):
            side.shutdown(socket.SHUT_RDWR)
