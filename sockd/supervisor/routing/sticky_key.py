"""The sticky key of a connection: the client's address, or the slot its session names."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

#: The address of a peer on a Unix socket (``--bind unix:PATH``): it has none. Such peers
#: are local processes the socket file's mode admits, so they count as trusted proxies
#: (``keys/trusted.py``); without a PROXY or forwarded header they all share this one key,
#: so they reach one worker, which keeps long-polling sessions whole.
UNIX_PEER = ""


def client_address(peer: tuple[str, int] | str | bytes) -> tuple[str, int]:
    """``(host, port)`` of a peer, with IPv4-mapped IPv6 folded to IPv4.

    A dual-stack listener reports IPv4 clients as ``::ffff:a.b.c.d``; folding
    keeps such a client on the same worker whichever listener it reached.
    A Unix socket peer (an address that is a path, mostly empty) is :data:`UNIX_PEER`.
    """
    if not isinstance(peer, tuple):
        return UNIX_PEER, 0
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


def peer_name(host: str) -> str:
    """A peer's address for log lines."""
    return host if host != UNIX_PEER else "a Unix socket peer"


def by_address(host: str) -> Route:
    """Keyed by the client's address: the bytes hashed to pick a slot."""
    return Route(key=host.encode())
