"""A WebSocket client that stops reading holds up nobody and loses nothing, in order.

The worker writes a packet to an idle WebSocket at once and queues it when the socket's
transport is paused (sockd/worker/hot_path/direct_write.py). A client that stops reading
fills the kernel's buffers and then the transport's, so its broadcasts pile up in the
session's queue while a reading client next to it (same worker) gets each at once. When
it reads again, every broadcast arrives in the order sent, including those sent while
its backlog was being written out.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import websockets
from websockets.asyncio.client import ClientConnection

from tests.harness import SockdLauncher, SourceAddresses, connect_client, wait_until

#: Enough bytes to fill loopback's socket buffers many times over (tcp_wmem max is 4 MiB).
BLOBS = 600
BLOB = "x" * 16_384
#: Broadcasts sent while the slow client catches up (they race the queued backlog).
DURING_CATCH_UP = 200
FRAME_TIMEOUT = 10.0


async def _slow_websocket(port: int, source: str) -> ClientConnection:
    """A Socket.IO WebSocket session with a small receive buffer that reads only when told."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 5)
    # max_queue=1: websockets stops reading the socket once one frame waits unread.
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
        sock=sock,
        max_queue=1,
        open_timeout=10,
        close_timeout=2,
    )
    opened = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    assert isinstance(opened, str) and opened.startswith("0{"), opened
    await ws.send("40")
    connected = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
    assert isinstance(connected, str) and connected.startswith("40"), connected
    return ws


async def _join(ws: ClientConnection, room: str) -> None:
    await ws.send("420" + json.dumps(["join", room]))
    while True:
        frame = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
        if isinstance(frame, str) and frame.startswith("430"):
            return


async def _read_news(ws: ClientConnection, token: str, count: int) -> list[int]:
    """The sequence numbers of ``count`` news events with ``token``, answering pings."""
    seen: list[int] = []
    while len(seen) < count:
        frame = await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT)
        if frame == "2":
            await ws.send("3")
            continue
        assert isinstance(frame, str) and frame.startswith("42"), frame[:80]
        event, payload = json.loads(frame[2:])
        if event == "news" and payload.get("t") == token:
            seen.append(payload["n"])
    return seen


def test_a_client_that_stops_reading_gets_everything_in_order_later(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    cluster = sockd(workers=1)
    source, other = source_addresses(2)

    async def scenario() -> None:
        room, token = f"slow-{uuid.uuid4()}", f"t-{uuid.uuid4()}"
        slow = await _slow_websocket(cluster.port, source)
        reader = await connect_client(cluster.port, other, ["websocket"])
        try:
            await _join(slow, room)
            assert (await reader.call("join", room))["room"] == room

            def got(n: int) -> bool:
                return sum(1 for m in reader.news if m.get("t") == token) >= n

            # The slow client reads nothing while these go out; the reader gets each.
            for n in range(BLOBS):
                payload = {"t": token, "n": n, "blob": BLOB}
                assert await reader.call("broadcast", {"room": room, "payload": payload})
            await wait_until(lambda: got(BLOBS), 30.0, "the reading client's broadcasts")

            async def more() -> None:
                for n in range(BLOBS, BLOBS + DURING_CATCH_UP):
                    payload = {"t": token, "n": n}
                    assert await reader.call("broadcast", {"room": room, "payload": payload})

            sending = asyncio.ensure_future(more())
            seen = await _read_news(slow, token, BLOBS + DURING_CATCH_UP)
            await asyncio.wait_for(sending, 30.0)
            assert seen == list(range(BLOBS + DURING_CATCH_UP))
            ordered = [m["n"] for m in reader.news if m.get("t") == token]
            assert ordered == list(range(BLOBS + DURING_CATCH_UP))
        finally:
            await slow.close()
            await reader.close()

    asyncio.run(scenario())
