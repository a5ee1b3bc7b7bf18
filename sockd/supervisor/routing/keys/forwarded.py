"""``--sticky-key forwarded``: the client address from X-Forwarded-For or Forwarded.

The master peeks at the HTTP request head (``MSG_PEEK``: nothing is consumed)
of connections from ``--trusted-proxy`` peers only; anyone else is keyed by
its own address and its headers are ignored. The client is the right-most
address that is not a trusted proxy, since every hop appends the one it saw
and only the hops we trust are known not to lie.
"""

from __future__ import annotations

import ipaddress

from sockd.supervisor.routing.keys.peek import Refused, Verdict
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import by_address, client_address
from sockd.wire.handoff import Handoff

HEAD_END = b"\r\n\r\n"


def forwarded_chain(head: bytes) -> list[str]:
    """The hops of X-Forwarded-For (or else ``Forwarded: for=``), client first."""
    x_forwarded: list[str] = []
    forwarded: list[str] = []
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        name = name.strip().lower()
        text = value.decode("latin-1")
        if name == b"x-forwarded-for":
            x_forwarded += [hop.strip() for hop in text.split(",")]
        elif name == b"forwarded":
            for element in text.split(","):
                for pair in element.split(";"):
                    key, equals, hop = pair.partition("=")
                    if equals and key.strip().lower() == "for":
                        forwarded.append(hop.strip().strip('"'))
    return x_forwarded or forwarded


def parse_hop(hop: str) -> tuple[str, int] | None:
    """``(host, port)`` of one hop (``1.2.3.4``, ``1.2.3.4:5``, ``[::1]:5``, ``::1``)."""
    port_text = ""
    if hop.startswith("["):
        host, closed, rest = hop[1:].partition("]")
        if not closed or rest[:1] not in ("", ":"):
            return None
        port_text = rest[1:]
    elif hop.count(":") == 1:
        host, _, port_text = hop.partition(":")
    else:
        host = hop
    # Not digits: RFC 7239's obfuscated ports (``_abc``) and anything else count as none;
    # nor do more digits than a port has (int() refuses thousands of them).
    digits = port_text.isascii() and port_text.isdigit() and len(port_text) <= 5
    port = int(port_text) if digits else 0
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return client_address((str(address), min(port, 65535)))


class ForwardedKeys:
    """The inspector of the peek stage for ``forwarded``."""

    def __init__(self, trusted: TrustedProxies) -> None:
        self._trusted = trusted

    def __call__(self, data: bytes, meta: Handoff) -> Verdict | None:
        if meta.peer_host not in self._trusted:
            return Verdict(meta, by_address(meta.peer_host))
        end = data.find(HEAD_END)
        if end < 0:
            return None
        if not data[: data.find(b"\r\n")].rstrip().endswith((b"HTTP/1.1", b"HTTP/1.0")):
            raise Refused("not an HTTP/1 request from a trusted proxy")
        client = meta
        for hop in reversed(forwarded_chain(data[:end])):
            parsed = parse_hop(hop)
            if parsed is None:
                break  # obfuscated or garbage: trust stops at the last known hop
            client = Handoff(*parsed)
            if client.peer_host not in self._trusted:
                break
        return Verdict(client, by_address(client.peer_host))
