"""The sticky key of a connection: the client's address, or the slot its session names."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


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


@dataclass(frozen=True)
class Route:
    """Where a connection should go: by the hash of ``key``, to ``owner``, or least loaded.

    ``owner`` is the slot named by a session id (``--sticky-key sid``); with
    neither set the connection opens a new session and goes to the least-loaded slot.
    """

    key: bytes | None = None
    owner: int | None = None


def by_address(host: str) -> Route:
    """Keyed by the client's address: the bytes hashed to pick a slot."""
    return Route(key=host.encode())
