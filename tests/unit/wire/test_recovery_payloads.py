"""Recovery's payloads on the control channel: headers, blobs, the offset spliced in."""

from __future__ import annotations

import pytest

from sockd.wire.recovery import pack, sequenced, stored_packet, unpack, with_offset


def test_a_header_and_its_blobs_come_back_as_they_went() -> None:
    payload = pack({"op": "x", "text": "a\nb"}, [b"\n\n", b"", b"\x00\xff"])
    header, blobs = unpack(payload)
    assert header == {"op": "x", "text": "a\nb", "sizes": [2, 0, 2]}
    assert blobs == [b"\n\n", b"", b"\x00\xff"]


@pytest.mark.parametrize(
    "payload", [b"no header", b'{"sizes":[3]}\nab', b'{"sizes":1}\n', b"[1]\n"]
)
def test_anything_else_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):
        unpack(payload)


def test_the_offset_is_the_events_last_argument_in_every_namespace() -> None:
    assert with_offset(b'2["ev"]', "e-1") == b'2["ev","e-1"]'
    assert with_offset(b'2/chat,["ev",{"a":[1]}]', "e-2") == b'2/chat,["ev",{"a":[1]},"e-2"]'
    assert with_offset(b'51-["ev",{"_placeholder":true,"num":0}]', "e-3").endswith(b',"e-3"]')
    with pytest.raises(ValueError):
        with_offset(b"0", "e-4")


def test_a_stored_packet_is_numbered_with_its_attachments_kept() -> None:
    header, (text, attachment) = unpack(stored_packet("/", ["r"], ["s"], '51-["ev",{}]', [b"\x01"]))
    payload = sequenced("e-9", {k: header[k] for k in "nrx"}, text, [attachment])
    fields, blobs = unpack(payload)
    assert (fields["n"], fields["r"], fields["x"], fields["o"]) == ("/", ["r"], ["s"], "e-9")
    assert blobs == [b'51-["ev",{},"e-9"]', b"\x01"]
