"""``--sticky-key forwarded``: the client is the right-most hop that is not a trusted proxy,
read only from trusted peers; addresses in any of their written forms, and garbage stops
the trust where it starts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockd.supervisor.routing.keys.forwarded import ForwardedKeys, forwarded_chain, parse_hop
from sockd.supervisor.routing.keys.peek import Refused, Verdict
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import by_address
from sockd.wire.handoff import Handoff

PROXY_PEER = Handoff("10.0.0.2", 40000)
STRANGER = Handoff("198.51.100.9", 50000)
KEYS = ForwardedKeys(TrustedProxies(["10.0.0.0/8", "2001:db8:ffff::/48"]))


def head(*headers: str, request_line: str = "GET /socket.io/?EIO=4 HTTP/1.1") -> bytes:
    return "\r\n".join([request_line, "Host: example.com", *headers, "", ""]).encode("latin-1")


def client_of(*headers: str, peer: Handoff = PROXY_PEER) -> Handoff:
    verdict = KEYS(head(*headers), peer)
    assert verdict is not None
    assert verdict.route == by_address(verdict.meta.peer_host)
    assert verdict.consume == 0, "nothing of an HTTP request is consumed"
    return verdict.meta


# -- the chain as written -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "chain"),
    [
        (["X-Forwarded-For: 192.0.2.7"], ["192.0.2.7"]),
        (
            ["X-Forwarded-For: 192.0.2.7,10.0.0.5 ,  10.0.0.6"],
            ["192.0.2.7", "10.0.0.5", "10.0.0.6"],
        ),
        (["x-forwarded-for: 192.0.2.7", "X-FORWARDED-FOR: 10.0.0.5"], ["192.0.2.7", "10.0.0.5"]),
        (["Forwarded: for=192.0.2.7"], ["192.0.2.7"]),
        (['Forwarded: For="[2001:db8::7]:4711";proto=https'], ["[2001:db8::7]:4711"]),
        (["Forwarded: by=10.0.0.1;for=192.0.2.7, for=10.0.0.5"], ["192.0.2.7", "10.0.0.5"]),
        (["Forwarded: proto=https;host=example.com"], []),
        (["Forwarded: for=192.0.2.7", "X-Forwarded-For: 192.0.2.8"], ["192.0.2.8"]),
        (["X-Forwarded-Host: 192.0.2.7", "Via: 1.1 proxy"], []),
        (["Not a header line", "X-Forwarded-For 192.0.2.7"], []),
    ],
    ids=[
        "XFF",
        "XFF list with spaces",
        "XFF in two headers, any case",
        "Forwarded",
        "Forwarded quoted IPv6 with port",
        "Forwarded with other pairs",
        "Forwarded without for",
        "XFF wins over Forwarded",
        "other headers",
        "no colon",
    ],
)
def test_the_chain_lists_hops_client_first(headers: list[str], chain: list[str]) -> None:
    assert forwarded_chain(head(*headers)) == chain


def test_the_request_line_is_not_a_header() -> None:
    request_line = "GET /x-forwarded-for:192.0.2.66 HTTP/1.1"
    assert forwarded_chain(head(request_line=request_line)) == []


@pytest.mark.parametrize(
    ("hop", "parsed"),
    [
        ("192.0.2.7", ("192.0.2.7", 0)),
        ("192.0.2.7:4711", ("192.0.2.7", 4711)),
        ("192.0.2.7:_port", ("192.0.2.7", 0)),  # RFC 7239's obfuscated port
        ("[2001:db8::7]:_port", ("2001:db8::7", 0)),
        ("192.0.2.7:\u00b2", ("192.0.2.7", 0)),  # a digit to str.isdigit, not to int()
        ("[2001:db8::7]:\u0663", ("2001:db8::7", 0)),
        ("[2001:db8::7]:4711", ("2001:db8::7", 4711)),
        ("[2001:db8::7]", ("2001:db8::7", 0)),
        ("[2001:db8::7]:", ("2001:db8::7", 0)),
        ("2001:db8::7", ("2001:db8::7", 0)),
        ("2001:DB8:0:0::7", ("2001:db8::7", 0)),  # one written form per address
        ("::ffff:192.0.2.7", ("192.0.2.7", 0)),
        ("[::ffff:192.0.2.7]:80", ("192.0.2.7", 80)),
        ("192.0.2.7:99999", ("192.0.2.7", 65535)),
    ],
)
def test_a_hop_in_any_written_form(hop: str, parsed: tuple[str, int]) -> None:
    assert parse_hop(hop) == parsed


@pytest.mark.parametrize(
    "hop",
    [
        "unknown",
        "_hidden",
        "",
        "example.com",
        "192.0.2.300",
        "1.2.3.4.5",
        '"',
        "[2001:db8::7",
        "[2001:db8::7]x",
        "[2001:db8::7]4711",
    ],
)
def test_a_hop_that_is_no_address_is_none(hop: str) -> None:
    assert parse_hop(hop) is None


# -- who the client is --------------------------------------------------------------


def test_a_stranger_is_itself_whatever_it_claims_and_is_not_read_further() -> None:
    assert client_of("X-Forwarded-For: 192.0.2.7", peer=STRANGER) == STRANGER
    verdict = KEYS(b"GET / HTTP/1.1\r\nX-Forwarded-For: 192.0.2.7", STRANGER)
    assert verdict == Verdict(STRANGER, by_address(STRANGER.peer_host)), "no wait for the head"


def test_the_client_is_the_right_most_hop_not_trusted() -> None:
    assert client_of("X-Forwarded-For: 192.0.2.7") == Handoff("192.0.2.7", 0)
    assert client_of("X-Forwarded-For: 6.6.6.6, 192.0.2.7, 10.0.0.5") == Handoff("192.0.2.7", 0)
    assert client_of('Forwarded: for=6.6.6.6, for="192.0.2.7:81"') == Handoff("192.0.2.7", 81)


def test_ipv6_hops_and_trusted_ipv6_proxies() -> None:
    chain = 'Forwarded: for="[2001:db8::7]:4711", for="[2001:db8:ffff::3]"'
    assert client_of(chain) == Handoff("2001:db8::7", 4711)


def test_a_chain_of_trusted_proxies_only_names_its_first() -> None:
    assert client_of("X-Forwarded-For: 10.0.0.7, 10.0.0.5") == Handoff("10.0.0.7", 0)


def test_garbage_stops_the_trust_at_the_last_known_hop() -> None:
    assert client_of("X-Forwarded-For: 192.0.2.7, garbage") == PROXY_PEER
    assert client_of("X-Forwarded-For: 192.0.2.7, unknown, 10.0.0.5") == Handoff("10.0.0.5", 0)
    assert client_of("Forwarded: for=_hidden") == PROXY_PEER


def test_no_header_keys_by_the_proxy() -> None:
    assert client_of() == PROXY_PEER


def test_an_incomplete_head_asks_for_more() -> None:
    assert KEYS(head("X-Forwarded-For: 192.0.2.7")[:-2], PROXY_PEER) is None
    assert KEYS(b"GET / HTTP/1.1\r\n", PROXY_PEER) is None


def test_only_the_head_counts_not_the_body() -> None:
    data = head("Content-Length: 30") + b"X-Forwarded-For: 192.0.2.66\r\n"
    verdict = KEYS(data, PROXY_PEER)
    assert verdict is not None and verdict.meta == PROXY_PEER


@pytest.mark.parametrize(
    "request_line",
    ["GET / HTTP/2.0", "PRI * HTTP/2.0", "GET /", "\x16\x03\x01 HTTP/1.1 x"],
)
def test_a_trusted_proxy_must_speak_http1(request_line: str) -> None:
    with pytest.raises(Refused, match="not an HTTP/1 request"):
        KEYS(head("X-Forwarded-For: 192.0.2.7", request_line=request_line), PROXY_PEER)


def test_http10_and_trailing_spaces_on_the_request_line_are_http1() -> None:
    assert KEYS(head(request_line="GET / HTTP/1.0  "), PROXY_PEER) is not None


@given(
    values=st.lists(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60),
        max_size=4,
    ),
    name=st.sampled_from(["X-Forwarded-For", "Forwarded"]),
)
def test_any_header_value_from_a_trusted_proxy_gives_a_client_never_an_error(
    values: list[str], name: str
) -> None:
    verdict = KEYS(head(*(f"{name}: {value}" for value in values)), PROXY_PEER)
    assert verdict is not None
    assert verdict.meta == PROXY_PEER or parse_hop(verdict.meta.peer_host) is not None
