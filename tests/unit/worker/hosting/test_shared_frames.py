"""A broadcast's text frame built once, byte for byte as websockets builds it."""

from __future__ import annotations

from websockets.protocol import Protocol, Side

from sockd.worker.hosting.uvicorn_adapter.websocket import SharedFrames, _plain_text_frames


def websockets_frame(text: str) -> bytes:
    conn = Protocol(Side.SERVER)
    conn.send_text(text.encode())
    return b"".join(conn.data_to_send())


def test_a_text_written_again_in_a_row_gets_one_frame_as_websockets_builds_it() -> None:
    frames = SharedFrames()
    text = "42" + '["fan",{"n":1}]' * 20  # over 125 bytes: the extended length form
    assert frames.frame(text) is None  # written once: an ack's text is not framed here
    first = frames.frame(text)
    assert first == websockets_frame(text)
    assert frames.frame(text) is first


def test_only_the_same_text_object_shares_a_frame() -> None:
    frames = SharedFrames()
    one, other = "".join(["4", "aaa"]), "".join(["4", "aaa"])  # equal, two objects
    assert frames.frame(one) is None
    assert frames.frame(other) is None
    assert frames.frame(other) == websockets_frame(other)
    assert frames.frame("4b") is None
    assert frames.frame(other) == websockets_frame(other)  # the shared one stays


def test_frames_are_written_directly_only_where_websockets_would_write_the_same() -> None:
    conn = Protocol(Side.SERVER)
    assert _plain_text_frames(conn)
    conn.send_text(b"pending", fin=False)
    assert not _plain_text_frames(conn)  # a write pending, a fragmented message
    assert not _plain_text_frames(Protocol(Side.CLIENT))  # masked
