"""A worker's options travel as the first frame of its control channel, not on argv."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from sockd.config.app_target import AppTarget
from sockd.config.options import WorkerOptions
from sockd.config.registry import assemble
from sockd.wire.frames import FrameDecoder, FrameError, Kind, encode_frame, receive_first_frame


@pytest.fixture
def channel() -> Iterator[tuple[socket.socket, socket.socket]]:
    master, worker = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with master, worker:
        yield master, worker


def test_options_round_trip_with_their_secrets() -> None:
    settings = assemble(
        {"session.secret": "s3cret", "io.redis.url": "redis://:pw@r:6379/0", "cluster.workers": 2},
        frozenset({"io.redis"}),
    )
    options = WorkerOptions(settings, AppTarget(None, Path("/srv/app")), "staging")
    again = WorkerOptions.from_wire(options.to_wire())
    assert again == options
    assert again.redis_url == "redis://:pw@r:6379/0"
    assert again.require_websocket_only  # two workers, not sticky


def test_exactly_the_first_frame_is_read(channel: tuple[socket.socket, socket.socket]) -> None:
    master, worker = channel
    options = encode_frame(Kind.OPTIONS, b'{"a": 1}')
    drain = encode_frame(Kind.DRAIN, b'{"timeout": 1}')
    # Split mid-header and mid-payload, with the next frame behind it in the same write.
    master.sendall(options[:3])
    master.sendall(options[3:9])
    master.sendall(options[9:] + drain)
    assert receive_first_frame(worker.fileno(), 5.0) == (Kind.OPTIONS, b'{"a": 1}')
    worker.setblocking(True)
    assert FrameDecoder().feed(worker.recv(100)) == [(Kind.DRAIN, b'{"timeout": 1}')]


def test_a_closed_or_silent_channel_is_an_error(
    channel: tuple[socket.socket, socket.socket],
) -> None:
    master, worker = channel
    with pytest.raises(FrameError, match="no frame from the peer in time"):
        receive_first_frame(worker.fileno(), 0.05)
    master.sendall(encode_frame(Kind.OPTIONS, b"x" * 10)[:-3])
    master.shutdown(socket.SHUT_WR)
    with pytest.raises(FrameError, match="the peer closed the channel"):
        receive_first_frame(worker.fileno(), 1.0)
    assert worker.fileno() >= 0, "the channel stays open for the worker's link"
