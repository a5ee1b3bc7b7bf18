"""``--sticky-key sid``: a request naming a tagged session goes to its owner, whatever its
address; anything else opens a session where the load is lowest."""

from __future__ import annotations

import pytest

from sockd.supervisor.routing.keys.sid import session_id, sid_keys
from sockd.supervisor.routing.sticky_key import Route
from sockd.wire.handoff import Handoff

PEER = Handoff("192.0.2.7", 1)


@pytest.mark.parametrize(
    ("line", "sid"),
    [
        (b"GET /socket.io/?EIO=4&transport=polling&sid=abc.2 HTTP/1.1", "abc.2"),
        (b"POST /socket.io/?sid=abc.2&EIO=4 HTTP/1.1", "abc.2"),
        (b"GET /socket.io/?EIO=4&sid=a%2Bb.1 HTTP/1.1", "a+b.1"),
        (b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1", None),
        (b"GET /socket.io/?usersid=abc.2 HTTP/1.1", None),
        (b"GET /socket.io/?sid= HTTP/1.1", None),
        (b"GET /socket.io/?sid=abc.2", None),  # not a request line
    ],
)
def test_the_session_id_of_a_request_line(line: bytes, sid: str | None) -> None:
    assert session_id(line) == sid


def route_of(head: bytes) -> Route:
    verdict = sid_keys(head, PEER)
    assert verdict is not None
    assert verdict.meta == PEER, "the client address is never replaced"
    return verdict.route


def test_a_tagged_session_goes_to_its_owner_and_others_to_the_least_loaded() -> None:
    assert route_of(b"GET /socket.io/?EIO=4&sid=Zx12.3 HTTP/1.1\r\nHost: x\r\n") == Route(owner=3)
    assert route_of(b"GET /socket.io/?EIO=4&sid=Zx12 HTTP/1.1\r\n") == Route()
    assert route_of(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n") == Route()


def test_the_request_line_is_awaited_whole() -> None:
    assert sid_keys(b"GET /socket.io/?EIO=4&sid=Zx12.3 HTTP/1.1", PEER) is None
