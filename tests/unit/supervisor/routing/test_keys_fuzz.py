"""Property tests of the master's parsers of client bytes: the PROXY v1/v2 header, the
forwarded chain and the sid peek (``sockd/supervisor/routing/keys/``).

For any input, and for valid inputs mutated, each parser returns or raises ``Refused``,
nothing else; what it reports depends only on the bytes it says it used (the same
answer with anything appended after them: it never reads past its bounds); valid inputs
round-trip to the address or slot they were made from, and every prefix of a valid
header asks for more. Bounded for CI: a few hundred examples per property, the whole
file in a few seconds.
"""

from __future__ import annotations

import ipaddress
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sockd.supervisor.routing.keys.forwarded import (
    HEAD_END,
    ForwardedKeys,
    forwarded_chain,
    parse_hop,
)
from sockd.supervisor.routing.keys.peek import Refused, Verdict
from sockd.supervisor.routing.keys.proxy_protocol import (
    V1_MAX,
    V2_SIGNATURE,
    ProxyProtocolKeys,
    parse,
)
from sockd.supervisor.routing.keys.sid import session_id, sid_keys
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import by_address, client_address
from sockd.wire.handoff import Handoff
from sockd.wire.sid_tag import tag

FUZZ = settings(max_examples=200, deadline=500, suppress_health_check=[HealthCheck.too_slow])
TRUSTED = TrustedProxies(["10.0.0.0/8", "fd00::/8"])
PROXY_PEER = Handoff("10.0.0.2", 40000)
CLIENT_PEER = Handoff("192.0.2.7", 40000)

ports = st.integers(0, 65535)
ipv4 = st.ip_addresses(v=4)
ipv6 = st.ip_addresses(v=6)
any_ip = st.one_of(ipv4, ipv6)


def expected_source(address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> Handoff:
    return Handoff(*client_address((str(address), port)))


# -- generators of valid and mutated input ---------------------------------------------


@st.composite
def v1_headers(draw: st.DrawFn) -> tuple[bytes, Handoff]:
    family, addresses = draw(st.sampled_from([("TCP4", ipv4), ("TCP6", ipv6)]))
    source, destination = draw(addresses), draw(addresses)
    source_port, destination_port = draw(ports), draw(ports)
    line = f"PROXY {family} {source} {destination} {source_port} {destination_port}\r\n"
    return line.encode(), expected_source(source, source_port)


@st.composite
def v2_headers(draw: st.DrawFn) -> tuple[bytes, Handoff | None]:
    """A v2 header (with TLVs as opaque bytes) and the source it names (None: the peer's)."""
    command = draw(st.sampled_from([0x20, 0x21]))  # LOCAL, PROXY
    family = draw(st.sampled_from([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]))
    size = {0x11: 4, 0x12: 4, 0x21: 16, 0x22: 16}.get(family)
    source: Handoff | None = None
    if size is not None:
        addresses = ipv4 if size == 4 else ipv6
        src, dst, sport, dport = draw(addresses), draw(addresses), draw(ports), draw(ports)
        block = src.packed + dst.packed + struct.pack("!HH", sport, dport)
        if command == 0x21:
            source = expected_source(src, sport)
    else:
        block = b"\x00" * (216 if family in (0x31, 0x32) else 0)
    block += draw(st.binary(max_size=40))  # TLVs: skipped by length, never parsed
    header = V2_SIGNATURE + bytes([command, family]) + struct.pack("!H", len(block)) + block
    return header, source


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    """A valid input with a few bytes flipped, dropped or inserted, maybe cut short."""
    data = bytearray(draw(valid))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "drop":
            del data[at]
        else:
            data.insert(at, draw(st.integers(0, 255)))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut] if draw(st.booleans()) else data)


proxy_headers = st.one_of(v1_headers().map(lambda h: h[0]), v2_headers().map(lambda h: h[0]))
proxy_inputs = st.one_of(
    st.binary(max_size=300),
    mutated(proxy_headers),
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from([b"PROXY ", V2_SIGNATURE]),
              st.binary(max_size=300)),
)  # fmt: skip


# -- PROXY protocol --------------------------------------------------------------------


def parsed_or_refused(data: bytes) -> tuple[Handoff | None, int] | Refused | None:
    try:
        result = parse(data)
    except Refused as exc:
        return exc
    if result is None:
        return None
    source, length = result
    return (Handoff(*source) if source is not None else None), length


def same_outcome(one: object, other: object) -> bool:
    if isinstance(one, Refused) or isinstance(other, Refused):
        return type(one) is type(other) and str(one) == str(other)
    return one == other


@FUZZ
@given(proxy_inputs, st.binary(max_size=64))
def test_proxy_parser_answers_within_its_bounds(data: bytes, more: bytes) -> None:
    outcome = parsed_or_refused(data)
    if isinstance(outcome, tuple):
        _, length = outcome
        assert 0 < length <= len(data)
        if data.startswith(b"PROXY "):
            assert length <= V1_MAX
        # What it used decides the answer: the same with anything after it.
        assert parsed_or_refused(data[:length] + more) == outcome


@FUZZ
@given(st.one_of(v1_headers(), v2_headers()), st.binary(max_size=64))
def test_valid_proxy_headers_round_trip(header: tuple[bytes, Handoff | None], rest: bytes) -> None:
    data, source = header
    assert parsed_or_refused(data + rest) == (source, len(data))
    for cut in range(len(data)):
        assert parsed_or_refused(data[:cut]) is None, f"a prefix of {cut} bytes needs more"


@FUZZ
@given(proxy_inputs, st.booleans())
def test_proxy_inspector_refuses_or_routes(data: bytes, trusted_peer: bool) -> None:
    inspect = ProxyProtocolKeys(TRUSTED)
    peer = PROXY_PEER if trusted_peer else CLIENT_PEER
    try:
        verdict = inspect(data, peer)
    except Refused:
        return
    if verdict is None:
        return
    assert verdict.route == by_address(verdict.meta.peer_host)
    if trusted_peer:
        outcome = parsed_or_refused(data)
        assert isinstance(outcome, tuple)
        assert verdict.consume == outcome[1]
        assert verdict.meta == (outcome[0] or peer)
    else:
        assert (verdict.meta, verdict.consume) == (peer, 0), "an untrusted peer keeps its own"


# -- forwarded ----------------------------------------------------------------------------

hop_text = st.one_of(
    st.text(max_size=60),
    st.builds(lambda ip, port: f"{ip}:{port}", ipv4, st.text("0123456789²٣", max_size=8)),
    st.builds(lambda ip, rest: f"[{ip}]{rest}", ipv6, st.text(max_size=10)),
    st.builds(lambda ip: f"{ip}:{'9' * 5000}", ipv4),
)


@FUZZ
@given(hop_text)
def test_a_hop_parses_to_an_address_or_nothing(hop: str) -> None:
    parsed = parse_hop(hop)
    if parsed is not None:
        host, port = parsed
        ipaddress.ip_address(host.split("%", 1)[0])
        assert 0 <= port <= 65535


@FUZZ
@given(any_ip, st.one_of(st.none(), ports), st.booleans())
def test_valid_hops_round_trip(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int | None, bracketed: bool
) -> None:
    host = str(address)
    if address.version == 6 and (bracketed or port is not None):
        hop = f"[{host}]" + (f":{port}" if port is not None else "")
    else:
        hop = host + (f":{port}" if port is not None else "")
    assert parse_hop(hop) == client_address((host, port or 0))


header_lines = st.lists(
    st.one_of(
        st.binary(max_size=80),
        st.builds(lambda v: b"X-Forwarded-For: " + v, st.binary(max_size=80)),
        st.builds(lambda v: b"Forwarded: " + v, st.binary(max_size=80)),
    ),
    max_size=6,
)
heads = st.builds(
    lambda line, lines: b"\r\n".join([line, *lines]),
    st.sampled_from([b"GET / HTTP/1.1", b"POST /x HTTP/1.0", b"GET /", b""]),
    header_lines,
)


@FUZZ
@given(st.one_of(heads, st.binary(max_size=400)))
def test_the_forwarded_chain_is_text_whatever_the_bytes(head: bytes) -> None:
    chain = forwarded_chain(head)
    assert all(isinstance(hop, str) for hop in chain)


@FUZZ
@given(st.one_of(heads, mutated(heads)), st.booleans(), st.binary(max_size=64))
def test_forwarded_inspector_refuses_or_routes(head: bytes, complete: bool, after: bytes) -> None:
    inspect = ForwardedKeys(TRUSTED)
    data = head + HEAD_END if complete else head
    try:
        verdict = inspect(data, PROXY_PEER)
    except Refused:
        return
    if verdict is None:
        assert HEAD_END not in data, "a complete head gets an answer"
        return
    assert verdict.consume == 0, "forwarded mode reads, never consumes"
    assert verdict.route == by_address(verdict.meta.peer_host)
    hops = {parse_hop(hop) for hop in forwarded_chain(data[: data.find(HEAD_END)])}
    assert verdict.meta == PROXY_PEER or tuple(verdict.meta.__dict__.values()) in hops
    # Only the head counts: what follows it (the body, a next request) changes nothing.
    end = data.find(HEAD_END) + len(HEAD_END)
    assert inspect(data[:end] + after, PROXY_PEER) == verdict


@FUZZ
@given(
    st.lists(st.tuples(any_ip, st.booleans()), min_size=1, max_size=5),
    st.sampled_from(["X-Forwarded-For", "Forwarded"]),
)
def test_the_client_is_the_right_most_untrusted_hop(
    hops: list[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, bool]], header: str
) -> None:
    """Hops marked True are made trusted (moved into 10.0.0.0/8 or fd00::/8)."""
    chain = [_in_trusted(address) if trusted else _untrusted(address) for address, trusted in hops]
    if header == "X-Forwarded-For":
        value = ", ".join(str(address) for address in chain)
    else:
        value = ", ".join(f'for="[{a}]"' if a.version == 6 else f"for={a}" for a in chain)
    data = f"GET / HTTP/1.1\r\nHost: x\r\n{header}: {value}\r\n\r\n".encode()
    verdict = ForwardedKeys(TRUSTED)(data, PROXY_PEER)
    assert isinstance(verdict, Verdict)
    untrusted = [address for address in chain if str(address) not in TRUSTED]
    expected = Handoff(*client_address((str(untrusted[-1]), 0))) if untrusted else None
    assert verdict.meta == (expected or Handoff(*client_address((str(chain[0]), 0))))


def _in_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress._BaseAddress:
    if address.version == 4:
        return ipaddress.IPv4Address((10 << 24) | (int(address) & 0xFFFFFF))
    return ipaddress.IPv6Address((0xFD << 120) | (int(address) & ((1 << 120) - 1)))


def _untrusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress._BaseAddress:
    if str(address) in TRUSTED or (address.version == 6 and address.ipv4_mapped is not None):
        return ipaddress.IPv4Address("192.0.2.1")
    return address


# -- sid ----------------------------------------------------------------------------------

request_lines = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda method, target, version: method + b" " + target + b" " + version,
        st.sampled_from([b"GET", b"POST", b""]),
        st.one_of(
            st.binary(max_size=120).map(lambda b: b"/socket.io/?sid=" + b),
            st.builds(lambda t: b"//[" + t + b"?sid=1.0", st.binary(max_size=20)),
            st.binary(max_size=120),
        ),
        st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"x"]),
    ),
)
sids = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1,
               max_size=40)  # fmt: skip


@FUZZ
@given(request_lines)
def test_session_id_is_text_or_nothing(line: bytes) -> None:
    sid = session_id(line)
    assert sid is None or isinstance(sid, str)


@FUZZ
@given(request_lines, st.binary(max_size=64), st.binary(max_size=64))
def test_sid_peek_reads_only_the_request_line(line: bytes, rest: bytes, other: bytes) -> None:
    verdict = sid_keys(line, CLIENT_PEER)
    if b"\r\n" not in line:
        assert verdict is None, "the request line is not complete yet"
    end = line + b"\r\n"
    first, second = sid_keys(end + rest, CLIENT_PEER), sid_keys(end + other, CLIENT_PEER)
    assert first is not None and first == second
    owner = first.route.owner
    assert owner is None or 0 <= owner <= 99999
    assert first.meta == CLIENT_PEER and first.consume == 0


@FUZZ
@given(sids, st.integers(0, 1023), st.sampled_from(["GET", "POST"]), st.booleans())
def test_tagged_sids_reach_their_slot(sid: str, slot: int, method: str, first: bool) -> None:
    query = f"sid={tag(sid, slot)}&EIO=4&transport=polling"
    if not first:
        query = f"EIO=4&transport=polling&sid={tag(sid, slot)}"
    line = f"{method} /socket.io/?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    verdict = sid_keys(line, CLIENT_PEER)
    assert verdict is not None and verdict.route.owner == slot
