"""The sticky key: one key per client whichever listener it reached."""

from __future__ import annotations

import pytest

from sockd.supervisor.routing.sticky_key import (
    UNIX_PEER,
    Route,
    by_address,
    client_address,
    peer_name,
)


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        (("192.0.2.7", 4711), ("192.0.2.7", 4711)),
        (("::ffff:192.0.2.7", 4711, 0, 0), ("192.0.2.7", 4711)),  # AF_INET6's 4-tuple
        (("2001:db8::7", 1, 0, 0), ("2001:db8::7", 1)),
        (("::1", 1, 0, 0), ("::1", 1)),
        (("fe80::1%eth0", 1, 0, 2), ("fe80::1%eth0", 1)),
    ],
)
def test_ipv4_mapped_ipv6_folds_to_ipv4_and_the_rest_stays(
    peer: tuple[str, ...], address: tuple[str, int]
) -> None:
    assert client_address(peer) == address


def test_the_key_is_the_address_only() -> None:
    assert by_address("192.0.2.7") == Route(key=b"192.0.2.7")
    assert by_address(client_address(("::ffff:192.0.2.7", 2))[0]) == by_address("192.0.2.7")
    assert Route() == Route(key=None, owner=None), "no key and no owner: least loaded"


@pytest.mark.parametrize("peer", ["", "/run/nginx.sock", b"\x00abstract"])
def test_a_unix_socket_peer_has_one_key_of_its_own(peer: str | bytes) -> None:
    assert client_address(peer) == (UNIX_PEER, 0)
    assert peer_name(UNIX_PEER) == "a Unix socket peer"
    assert peer_name("192.0.2.7") == "192.0.2.7"
