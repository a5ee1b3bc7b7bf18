"""``--trusted-proxy``: networks or single addresses, IPv4 and IPv6; a host is trusted only
when it is an address inside one of them."""

from __future__ import annotations

import ipaddress

import pytest

from sockd.supervisor.routing.keys.trusted import TrustedProxies, parse_network
from sockd.supervisor.routing.sticky_key import UNIX_PEER


@pytest.mark.parametrize(
    ("text", "network"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 10.1.2.3/8 ", "10.0.0.0/8"),  # host bits set: the network they are in
        ("192.0.2.7", "192.0.2.7/32"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::1", "::1/128"),
    ],
)
def test_networks_and_single_addresses(text: str, network: str) -> None:
    assert parse_network(text) == ipaddress.ip_network(network)


@pytest.mark.parametrize("text", ["", "10.0.0.0/33", "example.com", "10.0.0.0/8,10.1.0.0/16"])
def test_a_bad_network_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_network(text)


TRUSTED = TrustedProxies(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "fe80::/10"])


@pytest.mark.parametrize(
    ("host", "trusted"),
    [
        ("10.255.0.1", True),
        ("11.0.0.1", False),
        ("192.0.2.7", True),
        ("192.0.2.8", False),
        ("2001:db8::7", True),
        ("2001:db9::7", False),
        ("::ffff:10.0.0.1", True),  # an IPv4 client on a dual-stack listener
        ("::ffff:11.0.0.1", False),
        ("fe80::1%eth0", True),  # a scoped link-local address
        ("unknown", False),
        ("10.0.0.1:80", False),
    ],
)
def test_membership(host: str, trusted: bool) -> None:
    assert (host in TRUSTED) is trusted


def test_no_trusted_proxies_is_false_and_trusts_nobody() -> None:
    nobody = TrustedProxies([])
    assert not nobody
    assert "127.0.0.1" not in nobody
    assert TRUSTED


def test_a_unix_socket_peer_is_always_trusted() -> None:
    """Only processes the socket file's mode admits can connect (``--bind unix:``)."""
    assert UNIX_PEER in TRUSTED
    assert UNIX_PEER in TrustedProxies([])
