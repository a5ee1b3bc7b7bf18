"""A host that comes back after a crash takes its clients back, and none before it is ready.

HAProxy checks each host's health endpoint (``--health``), which answers 503 until every
worker of the restarted host is ready: HAProxy marks the host up only after that, so the
new clients of its addresses, streamed while it starts again (each retrying as a browser
would), are served by the other hosts meanwhile and none is sent to it early to wait in its
master's queue (with TCP checks, which pass as soon as the master listens, some were). The
test prints how long they took to be served and checks that once up the host serves its
own clients again.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.multihost.clients import distribution, sources_by_host
from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.network import BALANCER
from tests.harness import Client, wait_until

require_namespaces()

RETURNING = "h3"
STREAMS = 2
#: Generous: a worker's boot on a loaded machine, plus the retries.
SERVED_BOUND = 60.0


async def served(source: str) -> tuple[float, str, int]:
    """Connect from ``source`` until served (retrying after 0.2 s, as a browser would):
    seconds it took, the host, and the number of tries."""
    started = time.monotonic()
    for tries in range(1, 1000):
        client = Client(80, source, ["websocket"], host=BALANCER, reconnection=False)
        try:
            await client.connect(timeout=20)
            host = (await client.call("whoami"))["host"]
            return time.monotonic() - started, host, tries
        except Exception:
            assert time.monotonic() - started < SERVED_BOUND, f"{source} never served"
            await asyncio.sleep(0.2)
        finally:
            await client.close()
    raise AssertionError(f"{source} never served")


@pytest.mark.timeout(150)
def test_returning_host_serves_its_clients_again(cluster: Cluster) -> None:
    host = cluster.hosts[RETURNING]

    async def scenario() -> tuple[list[tuple[float, float, str, int]], float, float]:
        """Arrivals (when, waited, host, tries), then when the workers were ready and when
        HAProxy saw the host up, in seconds from the start."""
        sources = (await sources_by_host(cluster.net.sources[:200]))[RETURNING]
        killed = await asyncio.to_thread(host.kill9)
        await asyncio.to_thread(cluster.wait_health, RETURNING, "DOWN")
        print(f"\nHAProxy saw {RETURNING} down {time.monotonic() - killed:.1f} s after kill -9")
        arrivals: list[tuple[float, float, str, int]] = []  # (arrived, waited, host, tries)
        stop = asyncio.Event()
        launched = time.monotonic()

        async def stream(offset: int) -> None:
            n = offset
            while not stop.is_set():
                arrived = time.monotonic() - launched
                waited, where, tries = await served(sources[n % len(sources)])
                arrivals.append((arrived, waited, where, tries))
                n += STREAMS

        streams = [asyncio.get_running_loop().create_task(stream(i)) for i in range(STREAMS)]
        try:
            process = await asyncio.to_thread(host.launch)
            await asyncio.to_thread(process.wait_ready, 60)
            ready = time.monotonic() - launched
            await asyncio.to_thread(cluster.wait_health, RETURNING, "UP")
            up = time.monotonic() - launched
            count = len(arrivals)
            await wait_until(lambda: len(arrivals) >= count + 10, 30, "arrivals after the boot")
        finally:
            stop.set()
            await asyncio.gather(*streams)
        return arrivals, ready, up

    arrivals, ready, up = cluster.run(scenario, 130)
    # Sent to the host before its workers were ready: they would wait in its master's queue.
    early = [a for a in arrivals if a[2] == RETURNING and a[0] < ready]
    after = [a for a in arrivals if a[0] > up]
    print(
        f"{RETURNING} back after kill -9: workers ready {ready:.1f} s after the start, "
        f"HAProxy saw it up at {up:.1f} s; {len(arrivals)} new clients served in "
        f"{distribution([a[1] for a in arrivals])}, {len(early)} sent to it before its "
        f"workers were ready"
    )
    assert not early, f"sent to {RETURNING} before its workers were ready: {early}"
    assert up >= ready, "HAProxy saw the host up only once its workers were ready"
    assert after and {a[2] for a in after} == {RETURNING}, "the host serves its clients again"
