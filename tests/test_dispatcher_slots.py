"""Slots coming and going while the dispatcher serves (SIGTTIN, SIGTTOU), over real sockets.

A new slot joins the hash only once its worker is ready, so nobody waits for it; a removed
slot's waiting connections move on to their next slot at once instead of timing out.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from sockd.channel import Handoff, receive_handoff
from sockd.supervisor.dispatcher import Dispatcher
from sockd.supervisor.hashing import RendezvousHash

SECRET = b"t" * 16


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def channel() -> tuple[socket.socket, socket.socket]:
    master, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    master.setblocking(False)
    worker.settimeout(5)
    return master, worker


def host_owned_by(slot: int, slots: int) -> str:
    hashing = RendezvousHash(SECRET)
    for i in range(2, 250):
        host = f"127.0.5.{i}"
        if hashing.order(host.encode(), range(slots))[0] == slot:
            return host
    raise AssertionError("no host hashes to the slot")


def make_dispatcher(slots: int) -> Dispatcher:
    return Dispatcher(
        slots, sticky=True, queue_timeout=30, queue_limit=100, hashing=RendezvousHash(SECRET)
    )


def test_a_new_slot_takes_its_keys_only_once_ready(listener: socket.socket) -> None:
    async def scenario() -> None:
        dispatcher = make_dispatcher(2)
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
        dispatcher = make_dispatcher(3)
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
