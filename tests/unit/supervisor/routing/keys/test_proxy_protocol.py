"""The PROXY protocol parser (v1 text, v2 binary; haproxy.org proxy-protocol.txt).

A complete header gives the client's address and the header's length (consumed before
the hand-off); an incomplete one asks for more; anything else is refused with a reason,
never an exception of another kind and never a guess.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockd.supervisor.routing.keys.peek import Refused, Verdict
from sockd.supervisor.routing.keys.proxy_protocol import (
    V1_MAX,
    V2_SIGNATURE,
    ProxyProtocolKeys,
    looks_like_header,
    parse,
)
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import by_address
from sockd.wire.handoff import Handoff

REQUEST = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"

PROXY, LOCAL = 0x21, 0x20
TCP4, UDP4, TCP6, UDP6, UNSPEC, UNIX_STREAM = 0x11, 0x12, 0x21, 0x22, 0x00, 0x31


def v1(family: str, source: str, destination: str, ports: str = "56324 443") -> bytes:
    return f"PROXY {family} {source} {destination} {ports}\r\n".encode()


def v2(command: int, family: int, block: bytes, version: int = 2) -> bytes:
    return (
        V2_SIGNATURE
        + struct.pack("!BBH", version << 4 | command & 0x0F, family, len(block))
        + block
    )


def inet_block(source: str, destination: str, source_port: int, destination_port: int) -> bytes:
    return (
        ipaddress.ip_address(source).packed
        + ipaddress.ip_address(destination).packed
        + struct.pack("!HH", source_port, destination_port)
    )


# -- v1 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "client"),
    [
        (v1("TCP4", "192.0.2.7", "10.0.0.1"), ("192.0.2.7", 56324)),
        (v1("TCP6", "2001:db8::7", "2001:db8::1"), ("2001:db8::7", 56324)),
        (v1("TCP6", "::ffff:192.0.2.7", "::1"), ("192.0.2.7", 56324)),  # folded to IPv4
        (v1("TCP4", "192.0.2.7", "10.0.0.1", "0 65535"), ("192.0.2.7", 0)),
    ],
    ids=["TCP4", "TCP6", "IPv4-mapped", "port bounds"],
)
def test_v1_gives_the_source_address_and_the_header_length(
    header: bytes, client: tuple[str, int]
) -> None:
    assert parse(header + REQUEST) == (client, len(header))


def test_v1_unknown_keeps_the_peer_and_consumes_the_whole_line() -> None:
    header = b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"
    assert parse(header + REQUEST) == (None, len(header))
    assert parse(b"PROXY UNKNOWN\r\n") == (None, len(b"PROXY UNKNOWN\r\n"))


def test_v1_header_of_the_largest_size_is_read() -> None:
    longest = v1("TCP6", "ffff:" * 7 + "ffff", "ffff:" * 7 + "ffff", "65535 65535")
    assert len(longest) <= V1_MAX
    padded = longest[:-2] + b" " * (V1_MAX - len(longest)) + b"\r\n"
    assert len(padded) == V1_MAX
    with pytest.raises(Refused, match="malformed"):  # the padding makes extra fields
        parse(padded)
    assert parse(longest) is not None


def test_v1_longer_than_107_bytes_is_refused_not_awaited() -> None:
    assert parse(b"PROXY TCP4 " + b"1" * (V1_MAX - 12)) is None, "106 bytes: may still end"
    with pytest.raises(Refused, match="longer than 107"):
        parse(b"PROXY TCP4 " + b"1" * (V1_MAX - 11))
    with pytest.raises(Refused, match="longer than 107"):
        parse(b"PROXY TCP4 " + b"1" * V1_MAX + b"\r\n")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"PROXY TCP4 192.0.2.7 10.0.0.1 1\r\n", "malformed"),
        (b"PROXY TCP4 192.0.2.7 10.0.0.1 1 2 3\r\n", "malformed"),
        (b"PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n", "malformed"),
        (b"PROXY TCP4  192.0.2.7 10.0.0.1 1 2\r\n", "malformed"),  # two spaces
        (b"PROXY \r\n", "malformed"),
        (v1("TCP4", "192.0.2.300", "10.0.0.1"), "bad address"),
        (v1("TCP4", "192.0.2.07", "10.0.0.1"), "bad address"),
        (v1("TCP4", "example.com", "10.0.0.1"), "bad address"),
        (v1("TCP4", "2001:db8::7", "10.0.0.1"), "does not match its family"),
        (v1("TCP6", "192.0.2.7", "::1"), "does not match its family"),
        (v1("TCP4", "192.0.2.7", "10.0.0.1", "65536 443"), "bad port"),
        (v1("TCP4", "192.0.2.7", "10.0.0.1", "1 -2"), "bad port"),
        (v1("TCP4", "192.0.2.7", "10.0.0.1", "000001 443"), "bad port"),
        (v1("TCP4", "192.0.2.7", "10.0.0.1", "\u0661 443"), "not ASCII"),
        (b"PROXY TCP4 192.0.2.7 10.0.0.1 1 2\xff\r\n", "not ASCII"),
    ],
)
def test_v1_malformed_headers_are_refused_with_the_reason(header: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        parse(header + REQUEST)


# -- v2 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "source", "destination", "client"),
    [
        (TCP4, "192.0.2.7", "10.0.0.1", "192.0.2.7"),
        (UDP4, "192.0.2.7", "10.0.0.1", "192.0.2.7"),
        (TCP6, "2001:db8::7", "2001:db8::1", "2001:db8::7"),
        (UDP6, "2001:db8::7", "2001:db8::1", "2001:db8::7"),
        (TCP6, "::ffff:192.0.2.7", "::1", "192.0.2.7"),
    ],
    ids=["TCP4", "UDP4", "TCP6", "UDP6", "IPv4-mapped"],
)
def test_v2_gives_the_source_address_and_the_header_length(
    family: int, source: str, destination: str, client: str
) -> None:
    header = v2(PROXY, family, inet_block(source, destination, 40001, 443))
    assert parse(header + REQUEST) == ((client, 40001), len(header))


def test_v2_tlvs_after_the_addresses_are_consumed_too() -> None:
    tlvs = b"\x04\x00\x03abc" + b"\x20\x00\x05\x01\x00\x00\x00\x00"  # NOOP, SSL
    header = v2(PROXY, TCP4, inet_block("192.0.2.7", "10.0.0.1", 1, 2) + tlvs)
    assert parse(header + REQUEST) == (("192.0.2.7", 1), len(header))


@pytest.mark.parametrize(
    "header",
    [
        v2(LOCAL, UNSPEC, b""),
        v2(LOCAL, TCP4, inet_block("192.0.2.7", "10.0.0.1", 1, 2)),  # health check: ignored
        v2(PROXY, UNSPEC, b"\x00" * 4),
        v2(PROXY, UNIX_STREAM, b"/tmp/a".ljust(216, b"\x00")),
    ],
    ids=["LOCAL", "LOCAL with addresses", "UNSPEC", "UNIX"],
)
def test_v2_without_an_ip_source_keeps_the_peer_and_consumes_the_header(header: bytes) -> None:
    assert parse(header + REQUEST) == (None, len(header))


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (v2(PROXY, TCP4, b"", version=1), "version or command"),
        (v2(PROXY, TCP4, b"", version=3), "version or command"),
        (v2(0x2, TCP4, b""), "version or command"),
        (v2(0xF, TCP4, b""), "version or command"),
        (v2(PROXY, TCP4, b"\x00" * 11), "address block too short"),
        (v2(PROXY, TCP6, inet_block("192.0.2.7", "10.0.0.1", 1, 2)), "address block too short"),
    ],
)
def test_v2_malformed_headers_are_refused_with_the_reason(header: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        parse(header + REQUEST)


def test_v2_wrong_signature_is_refused() -> None:
    header = v2(PROXY, TCP4, inet_block("192.0.2.7", "10.0.0.1", 1, 2))
    with pytest.raises(Refused, match="no PROXY protocol header"):
        parse(b"\r\n\r\n\x00\r\nQUIT!" + header[12:])


@pytest.mark.parametrize(
    "header",
    [
        v1("TCP4", "192.0.2.7", "10.0.0.1"),
        v1("TCP6", "2001:db8::7", "2001:db8::1"),
        v2(PROXY, TCP4, inet_block("192.0.2.7", "10.0.0.1", 1, 2)),
        v2(PROXY, TCP6, inet_block("2001:db8::7", "2001:db8::1", 1, 2) + b"\x04\x00\x01x"),
        v2(LOCAL, UNSPEC, b""),
    ],
    ids=["v1 TCP4", "v1 TCP6", "v2 TCP4", "v2 TCP6 with TLV", "v2 LOCAL"],
)
def test_every_truncation_of_a_header_asks_for_more(header: bytes) -> None:
    for end in range(1, len(header)):
        assert parse(header[:end]) is None, header[:end]
    assert parse(header) is not None


def test_v2_with_a_huge_declared_length_is_awaited_up_to_the_peek_bound() -> None:
    """The peek stage bounds how much is read; the parser only says "not complete yet"."""
    assert parse(V2_SIGNATURE + b"\x21\x11\xff\xff" + b"\x00" * 4000) is None


@pytest.mark.parametrize(
    "data",
    [
        REQUEST,
        b"\x16\x03\x01\x02\x00",
        b"proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n",
        b"PROXY_",
        b"PROXY\r\n",
    ],
    ids=["HTTP", "TLS", "lower case", "no space", "no fields"],
)
def test_anything_else_from_a_trusted_proxy_is_refused(data: bytes) -> None:
    with pytest.raises(Refused, match="no PROXY protocol header"):
        parse(data)


# -- properties ---------------------------------------------------------------------

ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.ip_addresses(v=6).map(str)
ports = st.integers(min_value=0, max_value=65535)


@st.composite
def headers(draw: st.DrawFn) -> tuple[bytes, tuple[str, int]]:
    """A valid header of any kind, and the client address it names."""
    version = draw(st.sampled_from(["v1", "v2"]))
    six = draw(st.booleans())
    source, destination = draw(ipv6s if six else ipv4s), draw(ipv6s if six else ipv4s)
    source_port, destination_port = draw(ports), draw(ports)
    if version == "v1":
        header = v1(
            "TCP6" if six else "TCP4", source, destination, f"{source_port} {destination_port}"
        )
    else:
        tlvs = draw(st.binary(max_size=64))
        block = inet_block(source, destination, source_port, destination_port) + tlvs
        header = v2(PROXY, TCP6 if six else TCP4, block)
    mapped = ipaddress.ip_address(source)
    if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped is not None:
        source = str(mapped.ipv4_mapped)
    return header, (str(ipaddress.ip_address(source)), source_port)


@given(header=headers(), rest=st.binary(max_size=64))
def test_any_valid_header_is_read_exactly(
    header: tuple[bytes, tuple[str, int]], rest: bytes
) -> None:
    data, client = header
    parsed = parse(data + rest)
    assert parsed is not None
    assert (ipaddress.ip_address(parsed[0][0]), parsed[0][1]) == (  # type: ignore[index]
        ipaddress.ip_address(client[0]),
        client[1],
    )
    assert parsed[1] == len(data)


@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=120).map(lambda tail: b"PROXY " + tail),
        st.binary(max_size=120).map(lambda tail: V2_SIGNATURE + tail),
    )
)
def test_any_bytes_are_read_refused_or_awaited_never_crash(data: bytes) -> None:
    try:
        parsed = parse(data)
    except Refused:
        return
    if parsed is not None:
        assert 0 < parsed[1] <= len(data)


# -- the inspector: who may send a header ----------------------------------------------

TRUSTED = TrustedProxies(["10.0.0.0/8"])
PROXY_PEER = Handoff("10.0.0.2", 40000)
STRANGER = Handoff("198.51.100.9", 50000)


def test_a_trusted_proxys_header_names_the_client_and_is_consumed() -> None:
    header = v1("TCP4", "192.0.2.7", "10.0.0.1")
    verdict = ProxyProtocolKeys(TRUSTED)(header + REQUEST, PROXY_PEER)
    assert verdict == Verdict(Handoff("192.0.2.7", 56324), by_address("192.0.2.7"), len(header))


def test_a_trusted_proxys_health_check_is_keyed_by_the_proxy() -> None:
    header = v2(LOCAL, UNSPEC, b"")
    verdict = ProxyProtocolKeys(TRUSTED)(header, PROXY_PEER)
    assert verdict == Verdict(PROXY_PEER, by_address("10.0.0.2"), len(header))


def test_a_trusted_proxy_must_send_a_header() -> None:
    with pytest.raises(Refused):
        ProxyProtocolKeys(TRUSTED)(REQUEST, PROXY_PEER)
    assert ProxyProtocolKeys(TRUSTED)(b"PROXY TCP4 192.0.2.7", PROXY_PEER) is None


def test_a_stranger_is_served_as_itself_and_its_header_is_refused() -> None:
    keys = ProxyProtocolKeys(TRUSTED)
    assert keys(REQUEST, STRANGER) == Verdict(STRANGER, by_address("198.51.100.9"))
    with pytest.raises(Refused, match="not in --trusted-proxy"):
        keys(v1("TCP4", "192.0.2.7", "10.0.0.1") + REQUEST, STRANGER)
    with pytest.raises(Refused, match="not in --trusted-proxy"):
        keys(V2_SIGNATURE, STRANGER)
    assert keys(b"PRO", STRANGER) is None, "too short to tell: wait"
    assert keys(b"\r\n\r\n\x00", STRANGER) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PROXY ", True),
        (V2_SIGNATURE + b"\x21", True),
        (b"PROX", None),
        (b"\r\n", None),
        (b"GET", False),
        (b"PROXY-", False),
    ],
)
def test_looks_like_header(data: bytes, expected: bool | None) -> None:
    assert looks_like_header(data) is expected
