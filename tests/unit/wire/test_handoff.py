"""The hand-off channel over a real SEQPACKET socketpair: the fd that arrives is the client's
connection, its address travels with it, and a message that is not one fd plus its address
is refused without leaking a descriptor."""

from __future__ import annotations

import array
import os
import socket
from collections.abc import Iterator

import pytest

from sockd.wire.frames import FrameError
from sockd.wire.handoff import HANDOFF_META_MAX, Handoff, receive_handoff, send_handoff


@pytest.fixture
def channel() -> Iterator[tuple[socket.socket, socket.socket]]:
    master, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    master.setblocking(False)
    worker.setblocking(False)
    with master, worker:
        yield master, worker


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


@pytest.mark.parametrize(
    "meta",
    [Handoff("127.0.0.9", 51234), Handoff("2001:db8::7", 443), Handoff("fe80::1%eth0", 1)],
    ids=["IPv4", "IPv6", "scoped IPv6"],
)
def test_the_received_fd_is_the_client_connection_with_its_address(
    channel: tuple[socket.socket, socket.socket], meta: Handoff
) -> None:
    master, worker = channel
    client, accepted = socket.socketpair()
    with accepted:  # the master closes its own copy once it is sent
        send_handoff(master, accepted.fileno(), meta)
    received = receive_handoff(worker)
    assert received is not None
    fd, got = received
    assert got == meta
    with socket.socket(fileno=fd) as connection, client:
        client.sendall(b"ping")
        assert connection.recv(4) == b"ping"
        connection.sendall(b"pong")
        assert client.recv(4) == b"pong"


def test_hand_offs_keep_their_order_and_boundaries(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    master, worker = channel
    with socket.socket() as sock:
        for port in range(5):
            send_handoff(master, sock.fileno(), Handoff("10.0.0.1", port))
    ports = []
    for _ in range(5):
        received = receive_handoff(worker)
        assert received is not None
        os.close(received[0])
        ports.append(received[1].peer_port)
    assert ports == [0, 1, 2, 3, 4]


def test_an_empty_channel_raises_blocking_and_a_closed_one_returns_none(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    master, worker = channel
    with pytest.raises(BlockingIOError):
        receive_handoff(worker)
    master.close()
    assert receive_handoff(worker) is None


def test_a_full_channel_raises_blocking_on_send(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    """The kernel queues a few hundred fd messages; then the sender must hold on."""
    master, _ = channel
    with socket.socket() as sock, pytest.raises(BlockingIOError):
        for _ in range(100_000):
            send_handoff(master, sock.fileno(), Handoff("10.0.0.1", 1))


def send_raw(master: socket.socket, data: bytes, fds: list[int]) -> None:
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    master.sendmsg([data], ancillary)


def test_a_message_without_an_fd_is_refused(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    master, worker = channel
    send_raw(master, Handoff("10.0.0.1", 1).encode(), [])
    with pytest.raises(FrameError, match="exactly one fd"):
        receive_handoff(worker)


def test_a_message_with_two_fds_is_refused_and_closes_what_it_received(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    master, worker = channel
    one, two = socket.socketpair()
    with one, two:
        send_raw(master, Handoff("10.0.0.1", 1).encode(), [one.fileno(), two.fileno()])
        before = open_fds()
        with pytest.raises(FrameError):
            receive_handoff(worker)
        assert open_fds() == before, "the fds that came with the message are closed"


def test_metadata_longer_than_the_buffer_is_refused_and_its_fd_closed(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    master, worker = channel
    with socket.socket() as sock:
        send_raw(master, b"x" * (HANDOFF_META_MAX + 1) + b" 1", [sock.fileno()])
        before = open_fds()
        with pytest.raises(FrameError):
            receive_handoff(worker)
        assert open_fds() == before


def test_handoff_metadata_splits_at_the_last_space() -> None:
    assert Handoff.decode(b"::1 80") == Handoff("::1", 80)
    assert Handoff.decode(Handoff("a b", 2).encode()) == Handoff("a b", 2)
    with pytest.raises(ValueError):
        Handoff.decode(b"10.0.0.1 port")
