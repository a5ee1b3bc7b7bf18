"""sockd and a plain python-socketio server share one Redis channel, both ways.

With ``[io.redis] bus = "pubsub"``, sockd publishes a broadcast as python-socketio's
``emit`` message plus its encoded packet (sockd/worker/bus/encoded_broadcast.py,
sockd/worker/bus/redis_pubsub.py), so a python-socketio process on the same channel
(a deployment being migrated, an old server kept for a while) still delivers it, and
sockd delivers the plain server's broadcasts.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.harness import (
    REPO_ROOT,
    Client,
    SockdLauncher,
    SourceAddresses,
    connect_client,
    stop_process,
    wait_until,
    wait_until_sync,
)

#: A broadcast is repeated until it arrives: the plain server subscribes to Redis in the
#: background after its first request, so the first ones may go before it listens.
REPEAT_EVERY = 0.2


@pytest.fixture
def plain_server(redis_server: str, free_port: Callable[[], int]) -> Iterator[int]:
    """uvicorn serving ``tests/apps/plain_redis_app.py`` on Redis; stopped by pid."""
    port = free_port()
    env = {**os.environ, "PLAIN_REDIS_URL": redis_server}
    command = [sys.executable, "-m", "uvicorn", "tests.apps.plain_redis_app:app"]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_sync(lambda: _listening(port), 20.0, "the plain server")
        yield port
    finally:
        stop_process(proc)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


async def _until_received(sender: Client, room: str, receiver: Client) -> None:
    token = f"interop-{uuid.uuid4()}"

    def got() -> bool:
        return any(isinstance(m, dict) and m.get("t") == token for m in receiver.news)

    async def repeat() -> None:
        while not got():
            assert await sender.call("broadcast", {"room": room, "payload": {"t": token}})
            await asyncio.sleep(REPEAT_EVERY)

    sending = asyncio.ensure_future(repeat())
    try:
        await wait_until(got, 10.0, f"{token} from {sender!r} to {receiver!r}")
    finally:
        sending.cancel()


def test_broadcasts_cross_between_sockd_and_a_plain_server(
    sockd: SockdLauncher, redis_server: str, plain_server: int, source_addresses: SourceAddresses
) -> None:
    cluster = sockd(workers=2, redis=redis_server, redis_bus="pubsub")
    on_sockd_ip, on_plain_ip = source_addresses(2)

    async def scenario() -> None:
        on_sockd = await connect_client(cluster.port, on_sockd_ip, ["websocket"])
        on_plain = await connect_client(plain_server, on_plain_ip, ["websocket"])
        try:
            room = f"interop-{uuid.uuid4()}"
            for client in (on_sockd, on_plain):
                assert (await client.call("join", room))["room"] == room
            await _until_received(on_sockd, room, on_plain)
            await _until_received(on_plain, room, on_sockd)
        finally:
            await on_sockd.close()
            await on_plain.close()

    asyncio.run(scenario())
