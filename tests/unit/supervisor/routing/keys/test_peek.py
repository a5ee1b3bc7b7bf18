"""The peek stage's bounds, on real sockets and a real event loop whose clock the tests move:
a connection is read without consuming what the worker needs, retried with a growing delay
instead of spinning, and closed (with the reason logged) when it is refused, says nothing
usable within the byte bound or the time bound, or arrives while too many are pending."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

import pytest

from sockd.supervisor.routing.keys import peek
from sockd.supervisor.routing.keys.peek import (
    RETRY_FIRST,
    Inspector,
    PeekStage,
    Refused,
    Verdict,
)
from sockd.supervisor.routing.keys.proxy_protocol import ProxyProtocolKeys
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import Route, by_address
from sockd.wire.handoff import Handoff
from tests.unit.clocks import advance, run_shifted

PEER = Handoff("10.0.0.2", 40000)
TIMEOUT, LIMIT = 2.0, 64
REQUEST = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"


class Recorder:
    """The inspector's calls and the dispatcher's hand-offs of one stage."""

    def __init__(self, inspect: Callable[[bytes], Verdict | None]) -> None:
        self._inspect = inspect
        self.seen: list[bytes] = []
        self.dispatched: asyncio.Future[tuple[int, Handoff, Route]] = (
            asyncio.get_running_loop().create_future()
        )

    def inspect(self, data: bytes, meta: Handoff) -> Verdict | None:
        self.seen.append(data)
        return self._inspect(data)

    def dispatch(self, fd: int, meta: Handoff, route: Route) -> None:
        self.dispatched.set_result((fd, meta, route))

    def stage(self, inspect: Inspector | None = None) -> PeekStage:
        return PeekStage(inspect or self.inspect, self.dispatch, timeout=TIMEOUT, limit=LIMIT)


def connection(stage: PeekStage, meta: Handoff = PEER) -> socket.socket:
    """A connection given to the stage; returns the client's end."""
    client, accepted = socket.socketpair()
    client.setblocking(False)
    stage.start(accepted.detach(), meta)
    return client


async def closed_by_stage(client: socket.socket) -> bool:
    """Whether the stage closed the client's connection within a bound (EOF, or a reset
    when the bytes it sent were left unread)."""
    try:
        data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(client, 1), 2)
    except ConnectionResetError:
        return True
    return data == b""


def until_header_end(data: bytes) -> Verdict | None:
    return Verdict(PEER, Route(key=b"k")) if b"\r\n\r\n" in data else None


def test_a_verdict_hands_the_connection_over_with_its_bytes_unread() -> None:
    async def scenario() -> None:
        recorder = Recorder(until_header_end)
        stage = recorder.stage()
        with connection(stage) as client:
            client.send(REQUEST)
            fd, meta, route = await asyncio.wait_for(recorder.dispatched, 2)
            assert (meta, route, stage.pending) == (PEER, Route(key=b"k"), 0)
            with socket.socket(fileno=fd) as worker_end:
                assert worker_end.recv(1024) == REQUEST, "the worker reads the whole request"

    run_shifted(scenario())


def test_a_proxy_header_is_consumed_and_the_rest_reaches_the_worker() -> None:
    async def scenario() -> None:
        recorder = Recorder(until_header_end)
        stage = recorder.stage(ProxyProtocolKeys(TrustedProxies(["10.0.0.0/8"])))
        with connection(stage) as client:
            client.send(b"PROXY TCP4 192.0.2.7 10.0.0.1 4711 443\r\n" + REQUEST)
            fd, meta, route = await asyncio.wait_for(recorder.dispatched, 2)
            assert (meta, route) == (Handoff("192.0.2.7", 4711), by_address("192.0.2.7"))
            with socket.socket(fileno=fd) as worker_end:
                assert worker_end.recv(1024) == REQUEST

    run_shifted(scenario())


def test_incomplete_bytes_are_retried_later_with_a_growing_delay_not_spun_on() -> None:
    async def scenario() -> None:
        recorder = Recorder(until_header_end)
        stage = recorder.stage()
        with connection(stage) as client:
            client.send(REQUEST[:10])
            for _ in range(20):
                await asyncio.sleep(0)  # turns of the loop, no time passes
            assert recorder.seen == [REQUEST[:10]], "read once, not on every turn"
            await advance(RETRY_FIRST)
            assert len(recorder.seen) == 2
            await advance(RETRY_FIRST)
            assert len(recorder.seen) == 2, "the second delay is longer than the first"
            client.send(REQUEST[10:])
            await advance(RETRY_FIRST)
            assert recorder.seen[-1] == REQUEST
            fd, _, _ = await asyncio.wait_for(recorder.dispatched, 2)
            socket.close(fd)

    run_shifted(scenario())


def test_a_refused_connection_is_closed_and_the_reason_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(data: bytes) -> Verdict | None:
        raise Refused("not what a trusted proxy sends")

    async def scenario() -> None:
        recorder = Recorder(refuse)
        stage = recorder.stage()
        with connection(stage) as client:
            client.send(b"junk")
            assert await closed_by_stage(client)
        assert stage.pending == 0 and not recorder.dispatched.done()

    caplog.set_level(logging.WARNING, "sockd.master")
    run_shifted(scenario())
    assert "closing connection from 10.0.0.2: not what a trusted proxy sends" in caplog.text


def test_a_client_that_leaves_silently_is_forgotten_without_a_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        recorder = Recorder(until_header_end)
        stage = recorder.stage()
        connection(stage).close()
        for _ in range(5):
            await asyncio.sleep(0)
        assert stage.pending == 0
        await advance(TIMEOUT + 1)  # its deadline was cancelled: no late "timed out"

    caplog.set_level(logging.WARNING, "sockd.master")
    run_shifted(scenario())
    assert caplog.text == ""


def test_nothing_usable_within_the_byte_bound_is_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        recorder = Recorder(lambda data: None)
        stage = recorder.stage()
        with connection(stage) as client:
            client.send(b"x" * (LIMIT - 1))
            await advance(0)
            assert stage.pending == 1, "one byte short of the bound: still waiting"
            client.send(b"xy")
            await advance(RETRY_FIRST)
            assert await closed_by_stage(client)
        assert recorder.seen[-1] == b"x" * LIMIT, "never more than the bound is read"

    caplog.set_level(logging.WARNING, "sockd.master")
    run_shifted(scenario())
    assert f"nothing usable in its first {LIMIT} bytes" in caplog.text


def test_nothing_usable_within_the_time_bound_is_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        recorder = Recorder(until_header_end)
        stage = recorder.stage()
        with connection(stage) as client:
            client.send(REQUEST[:5])
            await advance(TIMEOUT - 0.1)
            assert stage.pending == 1
            await advance(0.2)
            assert await closed_by_stage(client)
        assert stage.pending == 0

    caplog.set_level(logging.WARNING, "sockd.master")
    run_shifted(scenario())
    assert "closing connection from 10.0.0.2: no usable request within 2s" in caplog.text


def test_connections_beyond_the_pending_bound_are_closed_at_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(peek, "MAX_PENDING", 2)

    async def scenario() -> None:
        recorder = Recorder(until_header_end)
        stage = recorder.stage()
        waiting = [connection(stage), connection(stage)]
        with connection(stage, Handoff("10.0.0.3", 1)) as flood:
            assert await closed_by_stage(flood)
        assert stage.pending == 2
        stage.close()
        for client in waiting:
            assert await closed_by_stage(client), "close() closes those still waiting"
            client.close()
        assert stage.pending == 0
        await advance(TIMEOUT + 1)

    caplog.set_level(logging.WARNING, "sockd.master")
    run_shifted(scenario())
    assert "closing connection from 10.0.0.3: too many peeks at once" in caplog.text
    assert "no usable request" not in caplog.text, "closed peeks leave no timers behind"


def test_an_inspector_that_fails_closes_that_connection_once_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(data: bytes) -> Verdict | None:
        raise ValueError("a parser bug")

    async def scenario() -> Recorder:
        recorder = Recorder(broken)
        stage = recorder.stage()
        with connection(stage) as client:
            client.send(b"x")
            assert await closed_by_stage(client)
        for _ in range(5):
            await asyncio.sleep(0)
        assert stage.pending == 0
        return recorder

    caplog.set_level(logging.WARNING)
    recorder = run_shifted(scenario())
    assert recorder.seen == [b"x"], "read once, not again on every turn of the loop"
    assert "closing connection from 10.0.0.2: reading its first bytes failed" in caplog.text
    assert "ValueError: a parser bug" in caplog.text
