"""``--metrics``: the master's /metrics under load, read with prometheus_client's parser.

The counts must be what the test did (connects, events, hand-offs, a restart after a kill),
survive the worker's restart, and a scraper that stalls must hold up neither the clients
nor the next scrape.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import time
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import (
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    by_worker,
    gather_bounded,
    wait_until,
    wait_until_sync,
)

CLIENTS = 12
EVENTS = 20
#: Each client's echoes, and the whoami that finds its worker.
SENT = CLIENTS * (EVENTS + 1)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by (name, sorted labels), through the real parser."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = reply.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def start(sockd: SockdLauncher, metrics: int, workers: int = 2) -> SockdProcess:
    return sockd("--metrics", f"127.0.0.1:{metrics}", workers=workers)


@pytest.mark.timeout(90)
def test_counts_under_load_match_and_survive_a_worker_restart(
    sockd: SockdLauncher, source_addresses: SourceAddresses, free_port: Any
) -> None:
    metrics = free_port()
    proc = start(sockd, metrics)
    scrapes: list[dict[Any, float]] = []

    async def load() -> dict[int, list[Client]]:
        clients = [Client(proc.port, ip, ["websocket"]) for ip in source_addresses(CLIENTS)]
        await gather_bounded((c.connect() for c in clients), 8)

        async def events(client: Client) -> None:
            for n in range(EVENTS):
                assert await client.call("echo", n) == n

        running = asyncio.gather(*(events(c) for c in clients))
        while not running.done():  # scrapes during the load parse and are consistent
            scrapes.append(await asyncio.to_thread(scrape, metrics))
            await asyncio.sleep(0.1)
        await running
        return await by_worker(clients)

    async def scenario() -> None:
        workers = await load()
        await asyncio.to_thread(wait_for_events, metrics, SENT)
        after = scrape(metrics)
        assert total(after, "sockd_socketio_connects_total", namespace="/") == CLIENTS
        assert total(after, "sockd_handoffs_total") == CLIENTS
        assert total(after, "sockd_accepted_connections_total") == CLIENTS
        assert total(after, "sockd_handoff_wait_seconds_count") == CLIENTS
        assert total(after, "sockd_connections") == CLIENTS
        assert total(after, "sockd_engineio_sessions", transport="websocket") == CLIENTS
        assert total(after, "sockd_event_handler_seconds_count") == SENT
        assert total(after, "sockd_workers", state="ready") == 2
        # The worker with clients is killed: its totals stay, its restart is counted.
        pid, victims = max(workers.items(), key=lambda item: len(item[1]))
        slot = {v: k for k, v in proc.slot_pids().items()}[pid]
        os.kill(pid, signal.SIGKILL)
        await asyncio.to_thread(
            wait_for, metrics, "sockd_worker_restarts_total", 1, slot=str(slot), reason="crash"
        )
        await asyncio.to_thread(wait_for, metrics, "sockd_workers", 2, state="ready")
        killed = scrape(metrics)
        assert total(killed, "sockd_socketio_events_total") == SENT
        assert total(killed, "sockd_worker_cpu_seconds_total", slot=str(slot)) >= total(
            after, "sockd_worker_cpu_seconds_total", slot=str(slot)
        )
        await wait_until(lambda: all(c.connected for c in victims), 30, "reconnected")
        for client in victims:
            await client.call("echo", "again")
        await asyncio.to_thread(wait_for_events, metrics, SENT + len(victims))
        for client in (c for group in workers.values() for c in group):
            await client.close()

    asyncio.run(scenario())
    assert scrapes, "scraped during the load"
    for earlier, later in itertools.pairwise(scrapes):
        for name in ("sockd_socketio_events_total", "sockd_handoffs_total"):
            assert total(later, name) >= total(earlier, name), f"{name} went back"


def wait_for(port: int, name: str, value: float, **labels: str) -> None:
    wait_until_sync(
        lambda: total(scrape(port), name, **labels) == value, 20, f"{name}{labels} == {value}"
    )


def wait_for_events(port: int, count: int) -> None:
    wait_for(port, "sockd_socketio_events_total", count, namespace="/")


@pytest.mark.timeout(60)
def test_a_stalled_scraper_holds_up_neither_clients_nor_scrapes(
    sockd: SockdLauncher, source_addresses: SourceAddresses, free_port: Any
) -> None:
    metrics = free_port()
    proc = start(sockd, metrics, workers=1)
    stalled = socket.create_connection(("127.0.0.1", metrics))
    stalled.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # the head never ends
    huge = socket.create_connection(("127.0.0.1", metrics))
    huge.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n")
    try:
        assert huge.recv(64).startswith(b"HTTP/1.1 431 ")

        async def clients() -> None:
            for ip in source_addresses(5):
                client = await Client(proc.port, ip, ["websocket"]).connect(timeout=10)
                await client.call("echo", 1)
                await client.close()

        asyncio.run(clients())
        assert total(scrape(metrics), "sockd_accepted_connections_total") == 5
        stalled.settimeout(15)
        started = time.monotonic()
        assert stalled.recv(1) == b"", "the stalled scraper is cut off"
        print(f"\nthe stalled scraper was cut off after {time.monotonic() - started:.1f} s more")
    finally:
        stalled.close()
        huge.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("bus", ["ipc", "redis"])
def test_bus_messages_and_lag_over_either_bus(
    sockd: SockdLauncher,
    source_addresses: SourceAddresses,
    free_port: Any,
    redis_server: str,
    bus: str,
) -> None:
    metrics = free_port()
    proc = sockd(
        "--metrics",
        f"127.0.0.1:{metrics}",
        workers=2,
        redis=redis_server if bus == "redis" else None,
    )

    def lag_of_every_slot() -> bool:
        samples = scrape(metrics)
        return all(("sockd_bus_lag_seconds", (("slot", s),)) in samples for s in ("0", "1"))

    wait_until_sync(lag_of_every_slot, 20, "each slot's bus lag (one probe a second)")
    before = scrape(metrics)

    async def broadcasts() -> None:
        clients = [Client(proc.port, ip, ["websocket"]) for ip in source_addresses(8)]
        await gather_bounded((c.connect() for c in clients), 8)
        for client in clients:
            await client.call("join", "r")
        for n in range(20):
            await clients[n % len(clients)].call("broadcast", {"room": "r", "payload": n})
        for client in clients:
            await client.close()

    asyncio.run(broadcasts())
    wait_until_sync(
        lambda: (
            total(scrape(metrics), "sockd_bus_messages_total", direction="published")
            >= total(before, "sockd_bus_messages_total", direction="published") + 20
        ),
        20,
        "20 broadcasts published on the bus",
    )
    after = scrape(metrics)
    assert total(after, "sockd_bus_messages_total", direction="received") > total(
        before, "sockd_bus_messages_total", direction="received"
    )
    lags = [v for (name, _), v in after.items() if name == "sockd_bus_lag_seconds"]
    assert len(lags) == 2 and all(0 <= lag < 5 for lag in lags), lags
    print(f"\n{bus} bus lag per worker: {', '.join(f'{lag * 1000:.2f} ms' for lag in lags)}")
