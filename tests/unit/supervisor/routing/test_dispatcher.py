"""The master's routing of accepted connections, over real sockets and socketpairs.

A connection for a ready slot is handed over at once; one for a slot that is not
ready waits, then falls back to the next ready slot in its rendezvous order; with
no slot ready it is closed; a full channel (the kernel queues only a few hundred fd
messages) holds connections back until the worker reads, without losing any.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator

import pytest

from sockd.supervisor.routing import dispatcher as dispatcher_module
from sockd.supervisor.routing.dispatcher import Dispatcher
from sockd.supervisor.routing.hashing import RendezvousHash
from sockd.wire.handoff import Handoff, receive_handoff
from tests.unit.clocks import ManualClock

SECRET = b"s" * 16


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    """The dispatcher's clock, moved by the test: wait bounds pass without sleeping."""
    clock = ManualClock()
    monkeypatch.setattr(dispatcher_module, "time", clock)
    return clock


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def connect(listener: socket.socket) -> tuple[socket.socket, socket.socket]:
    """A real TCP connection: (client end, accepted end)."""
    client = socket.create_connection(listener.getsockname(), timeout=5)
    accepted, _ = listener.accept()
    return client, accepted


def channel() -> tuple[socket.socket, socket.socket]:
    master, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    master.setblocking(False)
    worker.settimeout(5)
    return master, worker


def host_owned_by(slot: int, slots: int) -> str:
    hashing = RendezvousHash(SECRET)
    for i in range(1000):
        host = f"127.0.3.{i % 250}" if i < 250 else f"127.0.4.{i % 250}"
        if hashing.order(host.encode(), range(slots))[0] == slot:
            return host
    raise AssertionError("no host hashes to the slot")


def assert_same_connection(client: socket.socket, fd: int) -> None:
    """The fd the worker received is the client's connection: bytes flow both ways."""
    with socket.socket(fileno=fd) as received:
        received.sendall(b"hello")
        assert client.recv(5) == b"hello"


def make_dispatcher(slots: int, queue_timeout: float = 0.2, queue_limit: int = 100) -> Dispatcher:
    return Dispatcher(
        slots,
        sticky=True,
        queue_timeout=queue_timeout,
        queue_limit=queue_limit,
        hashing=RendezvousHash(SECRET),
    )


def test_ready_slot_gets_the_fd_at_once(listener: socket.socket) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(2)
        master, worker = channel()
        dispatcher.slot_ready(1, master)
        client, accepted = connect(listener)
        host = host_owned_by(1, 2)
        fd = accepted.detach()
        dispatcher.dispatch(fd, Handoff(host, 5555))
        with pytest.raises(OSError):
            os.fstat(fd)  # the master closed its copy once the worker had the fd
        received = receive_handoff(worker)
        assert received is not None
        fd, meta = received
        assert meta == Handoff(host, 5555)
        assert_same_connection(client, fd)
        assert dispatcher.handed_off_by_slot()[1] == 1

    asyncio.run(scenario())


def test_connection_waits_for_its_slot_to_become_ready(listener: socket.socket) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(2, queue_timeout=5)
        client, accepted = connect(listener)
        dispatcher.dispatch(accepted.detach(), Handoff(host_owned_by(0, 2), 1))
        assert dispatcher.pending(0) == 1
        master, worker = channel()
        dispatcher.slot_ready(0, master)
        received = receive_handoff(worker)
        assert received is not None
        assert_same_connection(client, received[0])
        assert dispatcher.pending(0) == 0

    asyncio.run(scenario())


def test_connection_falls_back_to_the_next_ready_slot_after_its_wait(
    listener: socket.socket, clock: ManualClock
) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(3, queue_timeout=0.2)
        host = host_owned_by(0, 3)
        fallback = RendezvousHash(SECRET).order(host.encode(), range(3))[1]
        master, worker = channel()
        dispatcher.slot_ready(fallback, master)
        client, accepted = connect(listener)
        dispatcher.dispatch(accepted.detach(), Handoff(host, 1))
        assert dispatcher.pending(0) == 1
        dispatcher.expire()
        clock.advance(0.19)
        dispatcher.expire()
        assert dispatcher.pending(0) == 1, "must not fall back before the wait bound"
        clock.advance(0.02)
        dispatcher.expire()
        assert dispatcher.pending(0) == 0
        received = receive_handoff(worker)
        assert received is not None
        assert_same_connection(client, received[0])

    asyncio.run(scenario())


def test_connection_is_closed_when_no_slot_is_ready(
    listener: socket.socket, clock: ManualClock
) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(2, queue_timeout=0.1)
        client, accepted = connect(listener)
        dispatcher.dispatch(accepted.detach(), Handoff("127.0.0.9", 1))
        clock.advance(0.11)
        dispatcher.expire()
        assert client.recv(1) == b"", "the client sees the connection closed"
        assert dispatcher.dropped == 1

    asyncio.run(scenario())


def test_full_channel_holds_connections_until_the_worker_reads(listener: socket.socket) -> None:
    """More hand-offs than the kernel queues: none lost, all flushed on writer readiness."""
    total = 400

    async def scenario() -> None:
        dispatcher = make_dispatcher(1, queue_timeout=30, queue_limit=total)
        master, worker = channel()
        dispatcher.slot_ready(0, master)
        for i in range(total):
            client, accepted = connect(listener)
            client.close()
            dispatcher.dispatch(accepted.detach(), Handoff("127.0.0.5", i))
        assert dispatcher.pending(0) > 0, "the kernel queue should have filled up"
        worker.setblocking(False)
        ports: list[int] = []
        deadline = asyncio.get_running_loop().time() + 10
        while len(ports) < total and asyncio.get_running_loop().time() < deadline:
            try:
                received = receive_handoff(worker)
            except BlockingIOError:
                await asyncio.sleep(0)  # a turn of the loop runs the writer callback
                continue
            assert received is not None
            socket.close(received[0])
            ports.append(received[1].peer_port)
        assert ports == list(range(total)), "every connection arrives, in order"
        assert dispatcher.pending(0) == 0

    asyncio.run(scenario())


def test_queue_limit_sends_overflow_to_the_fallback_slot(listener: socket.socket) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(2, queue_timeout=30, queue_limit=2)
        host = host_owned_by(0, 2)
        master, worker = channel()
        dispatcher.slot_ready(1, master)
        clients = []
        for i in range(3):
            client, accepted = connect(listener)
            clients.append(client)
            dispatcher.dispatch(accepted.detach(), Handoff(host, i))
        assert dispatcher.pending(0) == 2
        received = receive_handoff(worker)
        assert received is not None
        assert received[1].peer_port == 2
        assert_same_connection(clients[2], received[0])

    asyncio.run(scenario())


# -- slots coming and going while the dispatcher serves (SIGTTIN, SIGTTOU) ------------
# A new slot joins the hash only once its worker is ready, so nobody waits for it; a
# removed slot's waiting connections move on to their next slot at once.


def test_a_new_slot_takes_its_keys_only_once_ready(listener: socket.socket) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(2, queue_timeout=30)
        channels = {slot: channel() for slot in range(3)}
        for slot in (0, 1):
            dispatcher.slot_ready(slot, channels[slot][0])
        host = host_owned_by(2, 3)  # slot 2's key once it exists
        before = RendezvousHash(SECRET).order(host.encode(), range(2))[0]
        with socket.create_connection(listener.getsockname()):
            dispatcher.dispatch(listener.accept()[0].detach(), Handoff(host, 1))
            assert receive_handoff(channels[before][1]) is not None, "no wait for slot 2"
        dispatcher.slot_ready(2, channels[2][0])
        with socket.create_connection(listener.getsockname()):
            dispatcher.dispatch(listener.accept()[0].detach(), Handoff(host, 2))
            received = receive_handoff(channels[2][1])
            assert received is not None and received[1].peer_port == 2
        assert dispatcher.handed_off_by_slot() == {0: int(before == 0), 1: int(before == 1), 2: 1}

    asyncio.run(scenario())


def test_a_removed_slot_hands_its_waiting_connections_on(listener: socket.socket) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(3, queue_timeout=30)
        host = host_owned_by(2, 3)
        fallback = RendezvousHash(SECRET).order(host.encode(), range(3))[1]
        master, worker = channel()
        dispatcher.slot_ready(fallback, master)
        with socket.create_connection(listener.getsockname()):
            dispatcher.dispatch(listener.accept()[0].detach(), Handoff(host, 7))
            assert dispatcher.pending(2) == 1, "slot 2 has no worker yet: the client waits"
            dispatcher.remove_slot(2)
            received = receive_handoff(worker)
            assert received is not None and received[1].peer_port == 7
        assert 2 not in dispatcher.handed_off_by_slot()
        dispatcher.remove_slot(2)  # removing it again (or a slot never ready) is harmless

    asyncio.run(scenario())
