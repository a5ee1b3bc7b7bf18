"""Frames written in one loop turn leave in one transport write, in order; nothing is
written twice, and nothing goes to a transport that is closing."""

from __future__ import annotations

import asyncio
import socket

from sockd.wire.coalesced_writer import CoalescedWriter


class RecordingTransport(asyncio.WriteTransport):
    """A transport that keeps each ``write`` call, to count them."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing


async def next_turn() -> None:
    """Let the loop run what this turn scheduled (not a wait: no time passes)."""
    await asyncio.sleep(0)


def test_one_turns_frames_leave_in_one_write_in_order() -> None:
    async def scenario() -> list[bytes]:
        transport = RecordingTransport()
        writer = CoalescedWriter(transport)
        for frame in (b"a", b"bb", b"ccc"):
            writer.write(frame)
        assert transport.writes == [], "nothing leaves before the turn ends"
        await next_turn()
        writer.write(b"d")
        await next_turn()
        await next_turn()
        return transport.writes

    assert asyncio.run(scenario()) == [b"abbccc", b"d"]


def test_flush_writes_at_once_and_the_scheduled_flush_then_has_nothing_to_do() -> None:
    async def scenario() -> list[bytes]:
        transport = RecordingTransport()
        writer = CoalescedWriter(transport)
        writer.write(b"last words")
        writer.flush()
        assert transport.writes == [b"last words"]
        await next_turn()
        writer.flush()
        return transport.writes

    assert asyncio.run(scenario()) == [b"last words"]


def test_nothing_is_written_to_a_closing_transport() -> None:
    async def scenario() -> list[bytes]:
        transport = RecordingTransport()
        writer = CoalescedWriter(transport)
        writer.write(b"late")
        transport.closing = True
        await next_turn()
        return transport.writes

    assert asyncio.run(scenario()) == []


def test_a_real_socket_receives_every_frame_in_order() -> None:
    async def scenario() -> bytes:
        ours, theirs = socket.socketpair()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(asyncio.Protocol, sock=ours)
        writer = CoalescedWriter(transport)  # type: ignore[arg-type]
        frames = [b"%d;" % i for i in range(1000)]
        for index, frame in enumerate(frames):
            writer.write(frame)
            if index % 300 == 0:
                await next_turn()
        writer.flush()
        transport.close()
        theirs.setblocking(False)
        received = bytearray()
        while not received.endswith(b"999;"):
            received += await asyncio.wait_for(loop.sock_recv(theirs, 65536), 5)
        theirs.close()
        return bytes(received)

    assert asyncio.run(scenario()) == b"".join(b"%d;" % i for i in range(1000))
