"""A rolling reload of one host, run inside its namespace, under a stream of new clients.

New Socket.IO clients whose addresses HAProxy sends to that host keep connecting (over
WebSocket, and over polling upgraded to WebSocket) while ``sockd reload`` replaces its
workers one at a time: not one handshake fails, and none had to go to another host.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.multihost.clients import sources_by_host
from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.network import BALANCER
from tests.harness import Client, wait_until

require_namespaces()

RELOADED = "h1"
TRANSPORTS = (["websocket"], ["polling", "websocket"])
STREAMS = 2


@pytest.mark.timeout(150)
def test_rolling_reload_of_one_host_fails_no_handshake(cluster: Cluster) -> None:
    host = cluster.hosts[RELOADED]
    old_workers = host.worker_pids()

    async def scenario() -> tuple[int, int, list[str], set[str]]:
        sources = (await sources_by_host(cluster.net.sources[100:250]))[RELOADED]
        attempts: list[str] = []
        failures: list[str] = []
        landed: set[str] = set()
        stop = asyncio.Event()

        async def stream(offset: int) -> None:
            """New clients one after another: connect, ask where they are, leave."""
            n = offset
            while not stop.is_set():
                source, transports = sources[n % len(sources)], TRANSPORTS[n % 2]
                n += STREAMS
                attempts.append(source)
                client = Client(80, source, transports, host=BALANCER, reconnection=False)
                try:
                    await client.connect(timeout=20)
                    landed.add((await client.call("whoami"))["host"])
                except Exception as exc:
                    failures.append(f"{source} {transports}: {exc!r}")
                finally:
                    await client.close()

        streams = [asyncio.get_running_loop().create_task(stream(i)) for i in range(STREAMS)]
        try:
            await wait_until(lambda: len(attempts) >= 6, 30, "the stream of new clients")
            before = len(attempts)
            reload = await asyncio.to_thread(host.sockd, "reload", "--title", RELOADED, timeout=90)
            assert reload.returncode == 0, reload.stderr
            during = len(attempts) - before
            await wait_until(lambda: len(attempts) >= before + during + 4, 30, "clients after")
        finally:
            stop.set()
            await asyncio.gather(*streams)
        return during, len(attempts), failures, landed

    during, attempts, failures, landed = cluster.run(scenario, 130)
    print(f"\nreload of {RELOADED}: {during} new clients during the roll, {attempts} in all, "
          f"{len(failures)} failed")  # fmt: skip
    assert during > 0, "no new client tried to connect during the roll"
    assert failures == [], failures[:5]
    assert landed == {RELOADED}, "HAProxy must not have moved anyone off the reloading host"
    assert not host.worker_pids() & old_workers, "every worker was replaced"
