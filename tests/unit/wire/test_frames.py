"""The control channel's frames: whatever way the stream splits them, the decoder returns
each frame whole and once; a length or kind no sender writes is an error, not a guess."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sockd.wire.frames import (
    FRAME_HEADER,
    MAX_FRAME,
    FrameDecoder,
    FrameError,
    Kind,
    encode_frame,
    encode_json_frame,
)

FRAMES = [
    (Kind.READY, b'{"pid":42}'),
    (Kind.HEARTBEAT, b""),
    (Kind.BUS, b"\x00\x01" * 700),
    (Kind.FAILED, "no module named 'app' é".encode()),
]
STREAM = b"".join(encode_frame(kind, payload) for kind, payload in FRAMES)


def test_a_frame_is_its_length_its_kind_then_its_payload() -> None:
    assert encode_frame(Kind.DRAIN, b"abc") == b"\x00\x00\x00\x04\x05abc"
    assert encode_frame(Kind.HEARTBEAT) == b"\x00\x00\x00\x01\x02"
    frame = encode_json_frame(Kind.STATS, {"connections": 3, "sessions": 2})
    assert FrameDecoder().feed(frame) == [(Kind.STATS, b'{"connections":3,"sessions":2}')]
    assert json.loads(frame[FRAME_HEADER.size :]) == {"connections": 3, "sessions": 2}


def test_frames_in_one_read_all_come_out_in_order() -> None:
    assert FrameDecoder().feed(STREAM) == FRAMES


def test_a_stream_cut_anywhere_gives_the_same_frames() -> None:
    for cut in range(1, len(STREAM)):
        decoder = FrameDecoder()
        assert decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:]) == FRAMES, cut


def test_a_partial_frame_waits_for_its_rest_and_byte_by_byte_works() -> None:
    decoder = FrameDecoder()
    frame = encode_frame(Kind.BUS, b"payload")
    assert decoder.feed(frame[:3]) == [], "less than a header"
    assert decoder.feed(frame[3:7]) == [], "a header without its whole payload"
    assert decoder.feed(frame[7:]) == [(Kind.BUS, b"payload")]
    assert decoder.feed(b"") == []
    received = [got for byte in STREAM for got in decoder.feed(bytes([byte]))]
    assert received == FRAMES


@given(
    frames=st.lists(st.tuples(st.sampled_from(list(Kind)), st.binary(max_size=300)), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=10),
)
def test_any_frames_split_at_any_points_come_out_whole(
    frames: list[tuple[Kind, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(kind, payload) for kind, payload in frames)
    points = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    decoder = FrameDecoder()
    received = []
    for start, end in itertools.pairwise(points):
        received += decoder.feed(stream[start:end])
    assert received == frames


@pytest.mark.parametrize(
    "length", [0, MAX_FRAME + 1, 0xFFFFFFFF], ids=["empty", "over the bound", "huge"]
)
def test_a_bad_length_is_an_error_before_any_payload_arrives(length: int) -> None:
    header = FRAME_HEADER.pack(length, Kind.BUS)
    with pytest.raises(FrameError, match=f"bad frame length {length}"):
        FrameDecoder().feed(header)


def test_the_largest_frame_allowed_is_awaited_not_refused() -> None:
    assert FrameDecoder().feed(FRAME_HEADER.pack(MAX_FRAME, Kind.BUS) + b"x" * 10) == []


@pytest.mark.parametrize("kind", [0, 99, 255])
def test_an_unknown_kind_is_an_error(kind: int) -> None:
    frame = FRAME_HEADER.pack(3, kind) + b"ab"
    with pytest.raises(FrameError, match=f"unknown frame kind {kind}"):
        FrameDecoder().feed(encode_frame(Kind.READY, b"{}") + frame)
