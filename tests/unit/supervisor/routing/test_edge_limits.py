"""The master's edge limits on real sockets: a worker that says it is near its descriptor
limit is skipped (its clients go to their next slot) until it says it takes connections
again, what it hands back is routed again, ``--max-per-address`` counts connections until
their worker reports them closed (or exits), and ``--max-pending`` stops the accepts.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sockd.counted_log import INTERVAL, CountedLog
from sockd.supervisor.routing.acceptor import CAP_POLL, Acceptor
from sockd.supervisor.routing.address_limit import AddressLimit
from sockd.supervisor.routing.dispatcher import Dispatcher
from sockd.supervisor.routing.hashing import RendezvousHash
from sockd.wire.handoff import Handoff, receive_handoff
from sockd.wire.worker_notes import send_closed, send_full, send_open, send_returned
from tests.unit.clocks import advance, run_shifted

SECRET = b"s" * 16


def channel() -> tuple[socket.socket, socket.socket]:
    master, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    master.setblocking(False)
    worker.setblocking(False)
    return master, worker


def host_whose_first_slot_is(slot: int, slots: int) -> str:
    hashing = RendezvousHash(SECRET)
    for i in range(2, 250):
        host = f"127.0.5.{i}"
        if hashing.order(host.encode(), range(slots))[0] == slot:
            return host
    raise AssertionError("no host hashes to the slot")


async def settle() -> None:
    """Let the loop read what the workers wrote (a few turns, no time passes)."""
    for _ in range(5):
        await asyncio.sleep(0)


def received_by(worker: socket.socket) -> list[Handoff]:
    """Every hand-off waiting on the worker's end (their fds closed)."""
    got: list[Handoff] = []
    while True:
        try:
            received = receive_handoff(worker)
        except BlockingIOError:
            return got
        assert received is not None
        socket.close(received[0])
        got.append(received[1])


@pytest.fixture
def connections() -> Iterator[Callable[[], int]]:
    """Makes connected sockets; yields a factory of the accepted end's fd."""
    made: list[socket.socket] = []

    def make() -> int:
        client, accepted = socket.socketpair()
        made.append(client)
        return accepted.detach()

    yield make
    for sock in made:
        sock.close()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())  # type: ignore[arg-type]


def test_a_full_worker_is_skipped_until_it_takes_connections_again(
    connections: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "sockd.master")
    host = host_whose_first_slot_is(1, 2)

    async def scenario() -> None:
        dispatcher = Dispatcher(2, sticky=True, queue_timeout=5, queue_limit=10,
                                hashing=RendezvousHash(SECRET))  # fmt: skip
        (m0, w0), (m1, w1) = channel(), channel()
        dispatcher.slot_ready(0, m0)
        dispatcher.slot_ready(1, m1)
        send_full(w1, 256)
        await settle()
        for port in range(3):
            dispatcher.dispatch(connections(), Handoff(host, port))
        assert [h.peer_port for h in received_by(w0)] == [0, 1, 2], "the next slot took them"
        assert received_by(w1) == []
        send_open(w1)
        await settle()
        dispatcher.dispatch(connections(), Handoff(host, 9))
        assert [h.peer_port for h in received_by(w1)] == [9], "back to its own slot"
        dispatcher.close_all()
        for sock in (m0, w0, m1, w1):
            sock.close()

    run(scenario)
    assert caplog.text.count("worker 1 is at its descriptor limit (256): its new clients go") == 1
    assert "worker 1 takes new connections again" in caplog.text


def test_a_returned_connection_goes_to_the_next_slot_whole(
    connections: Callable[[], int],
) -> None:
    host = host_whose_first_slot_is(1, 2)

    async def scenario() -> None:
        dispatcher = Dispatcher(2, sticky=True, queue_timeout=5, queue_limit=10,
                                hashing=RendezvousHash(SECRET))  # fmt: skip
        (m0, w0), (m1, w1) = channel(), channel()
        dispatcher.slot_ready(0, m0)
        dispatcher.slot_ready(1, m1)
        client, accepted = socket.socketpair()
        with client:
            dispatcher.dispatch(accepted.detach(), Handoff(host, 7))
            fd, meta = receive_handoff(w1) or (-1, None)
            send_full(w1, 256)
            send_returned(w1, fd, meta)  # type: ignore[arg-type]
            socket.close(fd)
            await settle()
            again = receive_handoff(w0)
            assert again is not None and again[1] == Handoff(host, 7)
            with socket.socket(fileno=again[0]) as served:
                served.sendall(b"x")
                assert client.recv(1) == b"x", "the same client connection"
        dispatcher.close_all()
        for sock in (m0, w0, m1, w1):
            sock.close()

    run(scenario)


@pytest.mark.parametrize("opens", [0, 1])
def test_with_every_worker_full_a_connection_waits_for_the_first_that_opens(
    connections: Callable[[], int], opens: int
) -> None:
    host = host_whose_first_slot_is(0, 2)

    async def scenario() -> None:
        dispatcher = Dispatcher(2, sticky=True, queue_timeout=5, queue_limit=10,
                                hashing=RendezvousHash(SECRET))  # fmt: skip
        (m0, w0), (m1, w1) = channel(), channel()
        dispatcher.slot_ready(0, m0)
        dispatcher.slot_ready(1, m1)
        send_full(w0, 64)
        send_full(w1, 64)
        await settle()
        dispatcher.dispatch(connections(), Handoff(host, 1))
        assert dispatcher.queued() == 1, "nobody takes it: it waits (bounded)"
        send_open((w0, w1)[opens])
        await settle()
        assert dispatcher.queued() == 0
        assert [h.peer_port for h in received_by((w0, w1)[opens])] == [1]
        dispatcher.close_all()
        for sock in (m0, w0, m1, w1):
            sock.close()

    run(scenario)


def test_per_address_limit_counts_until_the_worker_reports_the_close(
    connections: Callable[[], int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "sockd.master")

    async def scenario() -> None:
        limit = AddressLimit(2, lambda host: host == "10.0.0.1")
        dispatcher = Dispatcher(1, sticky=True, queue_timeout=5, queue_limit=10,
                                per_address=limit)  # fmt: skip
        master, worker = channel()
        dispatcher.slot_ready(0, master)
        for port in range(5):
            dispatcher.dispatch(connections(), Handoff("192.0.2.1", port))
            dispatcher.dispatch(connections(), Handoff("10.0.0.1", port))  # a trusted proxy
        got = received_by(worker)
        assert [h.peer_port for h in got if h.peer_host == "192.0.2.1"] == [0, 1]
        assert len([h for h in got if h.peer_host == "10.0.0.1"]) == 5, "proxies are exempt"
        send_closed(worker, ["192.0.2.1", "192.0.2.99"])  # one it counted, one it did not
        await settle()
        assert limit.open_from("192.0.2.1") == 1
        dispatcher.dispatch(connections(), Handoff("192.0.2.1", 9))
        assert [h.peer_port for h in received_by(worker)] == [9]
        worker.close()  # the worker exits: its connections are gone with it
        await settle()
        assert limit.open_from("192.0.2.1") == 0
        dispatcher.close_all()
        master.close()

    run(scenario)
    assert caplog.text.count("--max-per-address 2") == 1, "one line for three refusals"
    assert "closing connection from 192.0.2.1: it has 2 open (--max-per-address 2)" in caplog.text


operations = st.lists(
    st.tuples(st.sampled_from(["admit", "close", "gone"]), st.integers(0, 1), st.integers(0, 2)),
    max_size=60,
)


@settings(max_examples=200, deadline=500)
@given(operations)
def test_address_counts_match_a_model(steps: list[tuple[str, int, int]]) -> None:
    """Against a plain model: opens (when admitted), closes, a worker's exit."""
    limit = AddressLimit(2, lambda host: False)
    links: list[Counter[str]] = [Counter(), Counter()]
    model: list[Counter[str]] = [Counter(), Counter()]

    async def scenario() -> None:
        for action, link, address in steps:
            host = f"192.0.2.{address}"
            total = model[0][host] + model[1][host]
            if action == "admit":
                assert limit.admit(host) == (total < 2)
                if total < 2:
                    limit.opened(host, links[link])
                    model[link][host] += 1
            elif action == "close":
                limit.closed(host, links[link])
                model[link][host] = max(0, model[link][host] - 1)
            else:
                limit.forget(links[link])
                model[link].clear()
            for other in range(3):
                name = f"192.0.2.{other}"
                assert limit.open_from(name) == model[0][name] + model[1][name]

    asyncio.run(scenario())


def test_counted_log_writes_the_first_then_one_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "test.counted")

    async def scenario() -> None:
        counted = CountedLog(logging.getLogger("test.counted"))
        for i in range(100):
            counted.note("kind", logging.INFO, f"first {i}", "{count} more in {seconds}s")
        counted.note("other", logging.INFO, "another kind", "-")
        await advance(INTERVAL + 1)
        counted.note("kind", logging.INFO, "first again", "{count} more")

    run_shifted(scenario())
    assert [r.getMessage() for r in caplog.records] == [
        "first 0",
        "another kind",
        "99 more in 10s",
        "first again",
    ]


class Holding:
    """A key resolver that keeps every connection (as peeks of silent clients would)."""

    def __init__(self) -> None:
        self.held: list[socket.socket] = []

    def resolve(self, fd: int, meta: Handoff) -> None:
        self.held.append(socket.socket(fileno=fd))

    def close(self) -> None:
        for sock in self.held:
            sock.close()
        self.held.clear()

    @property
    def pending(self) -> int:
        return len(self.held)


def test_at_max_pending_the_master_stops_accepting_until_it_holds_fewer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "sockd.master")

    async def scenario() -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setblocking(False)
        keys = Holding()
        acceptor = Acceptor([listener], keys, held=lambda: keys.pending, max_held=3)
        acceptor.start()
        clients = [socket.create_connection(listener.getsockname()) for _ in range(8)]
        await settle()
        assert keys.pending == 3, "three held, the others wait in the backlog"
        await advance(CAP_POLL)
        await settle()
        assert acceptor.accepted == 3, "still at the cap: nothing more taken"
        for sock in keys.held[:2]:
            sock.close()
        del keys.held[:2]
        await advance(CAP_POLL)
        await settle()
        assert keys.pending == 3 and acceptor.accepted == 5, "two more taken as two left"
        acceptor.close()
        for sock in clients:
            sock.close()

    run_shifted(scenario())
    assert caplog.text.count("--max-pending 3") == 1
    assert "the master holds 3 connections not handed to a worker yet" in caplog.text
