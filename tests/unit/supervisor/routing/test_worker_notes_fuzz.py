"""Property tests of what the master reads back from a worker on its hand-off channel
(``sockd/wire/worker_notes.py``), over a real SEQPACKET socketpair.

Any message, with or without descriptors, is a note or a ``FrameError``, never anything
else, and no descriptor that came with a refused message stays open; every note a worker
writes reads back as written.
"""

from __future__ import annotations

import array
import os
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sockd.wire.frames import FrameError
from sockd.wire.handoff import Handoff
from sockd.wire.worker_notes import (
    NOTE_MAX,
    Note,
    receive_note,
    send_closed,
    send_full,
    send_open,
    send_returned,
)

FUZZ = settings(
    max_examples=200,
    deadline=500,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def channel() -> Iterator[tuple[socket.socket, socket.socket]]:
    master, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    master.setblocking(False)
    with master, worker:
        yield master, worker


def open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


messages = st.one_of(
    st.binary(min_size=1, max_size=NOTE_MAX + 100),
    st.builds(lambda tag, body: tag + body, st.sampled_from([n.value for n in Note]),
              st.binary(max_size=200)),
)  # fmt: skip


@FUZZ
@given(data=messages, fd_count=st.integers(0, 2))
def test_any_message_is_a_note_or_refused_and_leaks_nothing(
    channel: tuple[socket.socket, socket.socket], data: bytes, fd_count: int
) -> None:
    master, worker = channel
    carried = [socket.socket() for _ in range(fd_count)]
    fds = array.array("i", [sock.fileno() for sock in carried])
    try:
        worker.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)] if carried else [])
    finally:
        for sock in carried:
            sock.close()
    before = open_fds()
    try:
        note = receive_note(master)
    except FrameError:
        assert open_fds() == before, "the fds of a refused message are closed"
        return
    assert note is not None
    if note.note is Note.RETURNED:
        assert note.meta is not None and note.fd >= 0
        os.close(note.fd)
    assert open_fds() == before


@FUZZ
@given(limit=st.integers(0, 10**7))
def test_full_and_open_read_back(channel: tuple[socket.socket, socket.socket], limit: int) -> None:
    master, worker = channel
    send_full(worker, limit)
    send_open(worker)
    full, opened = receive_note(master), receive_note(master)
    assert full is not None and (full.note, full.limit) == (Note.FULL, limit)
    assert opened is not None and opened.note is Note.OPEN


@FUZZ
@given(
    host=st.one_of(st.ip_addresses().map(str), st.just(""), st.text("ab %:.", max_size=30)),
    port=st.integers(0, 65535),
)
def test_a_returned_connection_reads_back_with_its_client(
    channel: tuple[socket.socket, socket.socket], host: str, port: int
) -> None:
    master, worker = channel
    client, accepted = socket.socketpair()
    with client, accepted:
        send_returned(worker, accepted.fileno(), Handoff(host, port))
        note = receive_note(master)
        assert note is not None and note.note is Note.RETURNED
        assert note.meta == Handoff(host, port)
        with socket.socket(fileno=note.fd) as returned:
            returned.sendall(b"x")
            assert client.recv(1) == b"x", "the fd is the same connection"


@FUZZ
@given(hosts=st.lists(st.ip_addresses().map(str), min_size=1, max_size=400))
def test_close_reports_read_back_in_order_over_as_many_notes_as_needed(
    channel: tuple[socket.socket, socket.socket], hosts: list[str]
) -> None:
    master, worker = channel
    left = list(hosts)
    while left:
        del left[: send_closed(worker, left)]
    seen: list[str] = []
    while len(seen) < len(hosts):
        note = receive_note(master)
        assert note is not None and note.note is Note.CLOSED
        seen += note.hosts
    assert seen == hosts
