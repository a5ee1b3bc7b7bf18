"""The request head's bounds (sockd/worker/hosting/request_head.py), as pure logic.

The scanner must say the same however a head is cut into chunks (a client chooses the
cuts), find the exact end of a head (the bytes after it are a body), and refuse a head at
the first byte that breaks a bound, not after buffering the rest.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from sockd.worker.hosting.request_head import HeadLimits, HeadScanner, Refusal, refusal_response

LIMITS = HeadLimits(timeout=1.0, max_line=40, max_size=200, max_headers=4)
FUZZ = settings(max_examples=300, deadline=None)


def scan(chunks: list[bytes], limits: HeadLimits = LIMITS) -> tuple[Refusal | int | None, int]:
    """The scanner's verdict on ``chunks`` fed in turn, and the offset in the whole input
    where it gave one (the end of the head is an offset into the last chunk fed)."""
    scanner = HeadScanner(limits)
    fed = 0
    for chunk in chunks:
        verdict = scanner.feed(chunk)
        if verdict is not None:
            return verdict, fed
        fed += len(chunk)
    return None, fed


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


def test_a_head_ends_after_its_blank_line_and_the_body_is_not_read() -> None:
    head = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
    assert scan([head + b"[[[[["]) == (len(head), 0)
    assert scan([b"GET / HTTP/1.1\nHost: a\n\n"]) == (24, 0)  # bare LF endings, as llhttp


def test_empty_lines_before_the_request_line_do_not_end_the_head() -> None:
    verdict, _ = scan([b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"])
    assert verdict == 22
    # ... but they count towards its size, so they cannot go on for ever.
    assert scan([b"\r\n" * 150]) == (Refusal(431, "request head larger than 200 bytes"), 0)


def test_each_bound_is_refused_with_its_status() -> None:
    assert scan([b"GET /" + b"a" * 60 + b" HTTP/1.1\r\n"])[0] == Refusal(
        414, "request line longer than 40 bytes"
    )
    assert scan([b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 40 + b"\r\n"])[0] == Refusal(
        431, "header line longer than 40 bytes"
    )
    assert scan([b"GET / HTTP/1.1\r\n" + b"A: b\r\n" * 5 + b"\r\n"])[0] == Refusal(
        431, "more than 4 header lines"
    )
    request_line = b"GET /" + b"a" * 26 + b" HTTP/1.1\r\n"
    header = b"A: " + b"b" * 37 + b"\r\n"
    assert scan([request_line + header * 4])[0] == Refusal(
        431, "request head larger than 200 bytes"
    )


def test_a_line_at_the_limit_passes_even_when_its_cr_and_lf_come_apart() -> None:
    line = b"GET /" + b"a" * 26 + b" HTTP/1.1"  # 40 bytes
    assert len(line) == 40
    assert scan([line + b"\r", b"\n\r", b"\n"])[0] == 1
    assert scan([line + b"a\r"])[0] == Refusal(414, "request line longer than 40 bytes")


def test_an_endless_line_is_refused_within_one_chunk_of_its_limit() -> None:
    scanner = HeadScanner(LIMITS)
    assert scanner.feed(b"GET / HTTP/1.1\r\nX: ") is None
    for _ in range(10):
        verdict = scanner.feed(b"aaaaaa")
        if verdict is not None:
            break
    assert verdict == Refusal(431, "header line longer than 40 bytes")


def test_a_refusal_is_a_complete_response_that_closes() -> None:
    answer = refusal_response(431, "more than 4 header lines")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in head and f"content-length: {len(body)}".encode() in head


lines = st.binary(min_size=1, max_size=60).map(
    lambda b: b.replace(b"\n", b"x").rstrip(b"\r") or b"x"
)


@FUZZ
@given(st.lists(lines, max_size=8), st.binary(max_size=30), st.lists(st.integers(0, 500)))
def test_the_verdict_does_not_depend_on_how_the_head_is_cut(
    head_lines: list[bytes], after: bytes, cuts: list[int]
) -> None:
    data = b"".join(line + b"\r\n" for line in head_lines) + b"\r\n" + after
    whole, _ = scan([data])
    verdict, offset = scan(cut(data, cuts))
    if isinstance(whole, int):
        assert isinstance(verdict, int) and offset + verdict == whole
    else:
        assert verdict == whole


@FUZZ
@given(st.lists(lines, min_size=1, max_size=8))
def test_the_verdict_is_the_bounds_applied_to_the_lines(head_lines: list[bytes]) -> None:
    data = b"".join(line + b"\r\n" for line in head_lines) + b"\r\n"
    verdict, _ = scan([data])
    expected: int = len(data)  # the end of the head, or the status refusing it
    size = 0
    for number, line in enumerate(head_lines):
        size += len(line) + 2
        if len(line) > LIMITS.max_line:
            expected = 414 if number == 0 else 431
            break
        if number > LIMITS.max_headers or size > LIMITS.max_size:
            expected = 431
            break
    assert (verdict.status if isinstance(verdict, Refusal) else verdict) == expected


@FUZZ
@given(st.binary(max_size=2000), st.lists(st.integers(0, 2000)))
def test_any_bytes_get_a_verdict_within_the_size_bound(data: bytes, cuts: list[int]) -> None:
    verdict, offset = scan(cut(data, cuts))
    if verdict is None:  # still a head: it has not passed the bounds yet
        assert len(data) <= LIMITS.max_size + 1
    elif isinstance(verdict, int):
        assert offset + verdict <= min(len(data), LIMITS.max_size + 2)
