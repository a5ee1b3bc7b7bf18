"""The sticky key of a connection: the client's address."""

from __future__ import annotations

import ipaddress


def client_address(peer: tuple) -> tuple[str, int]:
    """``(host, port)`` of a peer, with IPv4-mapped IPv6 folded to IPv4.

    A dual-stack listener reports IPv4 clients as ``::ffff:a.b.c.d``; folding
    keeps such a client on the same worker whichever listener it reached.
    """
    host, port = peer[0], peer[1]
    if ":" in host:
        address = ipaddress.IPv6Address(host.split("%", 1)[0])
        if address.ipv4_mapped is not None:
            host = str(address.ipv4_mapped)
    return host, port


def key_for(host: str) -> bytes:
    """The bytes hashed to pick a slot."""
    return host.encode()
