"""Once running, losing Redis is logged, not fatal: each worker keeps serving its clients."""

from __future__ import annotations

import asyncio
import subprocess

from tests.harness import Client, SockdLauncher, SourceAddresses


def test_redis_outage_is_logged_and_workers_keep_serving(
    sockd: SockdLauncher,
    private_redis: tuple[str, subprocess.Popen[bytes]],
    source_addresses: SourceAddresses,
) -> None:
    url, redis_process = private_redis
    server = sockd(workers=2, redis=url)

    async def scenario() -> None:
        clients = [Client(server.port, ip, ["websocket"]) for ip in source_addresses(4)]
        try:
            await asyncio.gather(*(c.connect() for c in clients))
            mark = server.line_count()
            redis_process.terminate()
            redis_process.wait(10)
            # A broadcast now cannot reach the bus; the worker says so in its log.
            await clients[0].call("broadcast", {"room": "nowhere", "payload": "x"})
            await asyncio.to_thread(server.wait_for_line, "redis", 20, mark)
            for client in clients:
                assert await client.call("echo", "still here") == "still here"
            assert all(client.connected for client in clients)
            assert server.proc.poll() is None, "the master must keep running"
        finally:
            await asyncio.gather(*(c.close() for c in clients))

    asyncio.run(scenario())
