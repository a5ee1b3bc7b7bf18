"""``--sticky-key proxy-protocol``: the client address from a PROXY protocol v1 or v2 header.

Only peers in ``--trusted-proxy`` may (and must) send the header; it is consumed,
and everything after it reaches the worker byte for byte. A peer that is not
trusted is served as a direct client, unless it sends a PROXY header, which is
refused. The format: https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
"""

from __future__ import annotations

import ipaddress
import struct

from sockd.supervisor.routing.keys.peek import Refused, Verdict
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import by_address, client_address
from sockd.wire.handoff import Handoff

V1_PREFIX = b"PROXY "
V1_MAX = 107  # the spec's bound, CRLF included
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_HEADER = struct.Struct("!12sBBH")
#: Address block sizes of v2 families: TCP/UDP over IPv4, then over IPv6.
_V2_INET = {0x11: 4, 0x12: 4, 0x21: 16, 0x22: 16}

#: A parse result: the source address (``None``: use the peer's) and the header's length.
Parsed = tuple[tuple[str, int] | None, int]


def parse(data: bytes) -> Parsed | None:
    """Parse a PROXY header at the start of ``data``; ``None`` while it is incomplete."""
    if data.startswith(V2_SIGNATURE[: len(data)]) or data.startswith(V2_SIGNATURE):
        return _parse_v2(data)
    if data.startswith(V1_PREFIX[: len(data)]) or data.startswith(V1_PREFIX):
        return _parse_v1(data)
    raise Refused("no PROXY protocol header from a trusted proxy")


def looks_like_header(data: bytes) -> bool | None:
    """Whether ``data`` starts a PROXY header; ``None`` while too short to tell."""
    for prefix in (V1_PREFIX, V2_SIGNATURE):
        if data.startswith(prefix):
            return True
        if prefix.startswith(data):
            return None
    return False


def _parse_v1(data: bytes) -> Parsed | None:
    end = data.find(b"\r\n", 0, V1_MAX)
    if end < 0:
        if len(data) >= V1_MAX:
            raise Refused("PROXY v1 header longer than 107 bytes")
        return None
    try:
        fields = data[:end].decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise Refused("PROXY v1 header is not ASCII") from None
    if len(fields) >= 2 and fields[1] == "UNKNOWN":
        return None, end + 2
    if len(fields) != 6 or fields[1] not in ("TCP4", "TCP6"):
        raise Refused("malformed PROXY v1 header")
    _, family, source, destination, source_port, destination_port = fields
    version = 4 if family == "TCP4" else 6
    for address in (source, destination):
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            raise Refused("bad address in PROXY v1 header") from None
        if parsed.version != version:
            raise Refused("PROXY v1 address does not match its family")
    for port in (source_port, destination_port):
        if not port.isascii() or not port.isdigit() or len(port) > 5 or int(port) > 65535:
            raise Refused("bad port in PROXY v1 header")
    return client_address((source, int(source_port))), end + 2


def _parse_v2(data: bytes) -> Parsed | None:
    if len(data) < V2_HEADER.size:
        return None
    _, version_command, family, length = V2_HEADER.unpack_from(data)
    if version_command >> 4 != 2 or version_command & 0x0F > 1:
        raise Refused("unsupported PROXY v2 version or command")
    total = V2_HEADER.size + length
    if len(data) < total:
        return None
    if version_command & 0x0F == 0 or family not in _V2_INET:
        return None, total  # LOCAL (a health check) or a family without an IP source
    size = _V2_INET[family]
    if length < 2 * size + 4:
        raise Refused("PROXY v2 address block too short")
    start = V2_HEADER.size
    raw = data[start : start + size]
    source = ipaddress.IPv4Address(raw) if size == 4 else ipaddress.IPv6Address(raw)
    (port,) = struct.unpack_from("!H", data, start + 2 * size)
    return client_address((str(source), port)), total


class ProxyProtocolKeys:
    """The inspector of the peek stage for ``proxy-protocol``."""

    def __init__(self, trusted: TrustedProxies) -> None:
        self._trusted = trusted

    def __call__(self, data: bytes, meta: Handoff) -> Verdict | None:
        if meta.peer_host not in self._trusted:
            header = looks_like_header(data)
            if header:
                raise Refused("PROXY protocol header from a peer not in --trusted-proxy")
            return None if header is None else Verdict(meta, by_address(meta.peer_host))
        parsed = parse(data)
        if parsed is None:
            return None
        source, length = parsed
        client = Handoff(*source) if source is not None else meta
        return Verdict(client, by_address(client.peer_host), consume=length)
