"""Every Socket.IO transport works through the sticky master with several workers.

Long-polling is the case that needs stickiness: each request of a session must reach the
worker holding it. With 4 workers and clients spread over 30 source addresses, a master that
routed by anything but the client would fail many of the 1,200 acked events per transport.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.harness import (
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    open_clients,
    wait_until,
)

WORKERS = 4
CLIENTS = 60
ADDRESSES = 30
EVENTS = 20

TRANSPORTS = [
    pytest.param(["polling"], id="polling"),
    pytest.param(["websocket"], id="websocket"),
    pytest.param(["polling", "websocket"], id="upgrade"),
]


@pytest.fixture(scope="module")
def cluster(sockd_module: SockdLauncher) -> SockdProcess:
    """One 4-worker sticky cluster for the whole module (boot once, test every transport)."""
    return sockd_module(workers=WORKERS, sticky=True)


async def _wait_transport(client: Client, transports: list[str]) -> None:
    """Make sure the client really runs on the transport under test (upgrade included)."""
    assert client.sio is not None
    expected = transports[-1]
    await wait_until(
        lambda: client.sio is not None and client.sio.transport() == expected,
        10.0,
        f"{client!r} to use {expected}",
    )


async def _exchange(index: int, client: Client) -> list[str]:
    """Send EVENTS acked echoes; return a description of every failure."""
    failures = []
    for n in range(EVENTS):
        payload: dict[str, Any] = {"client": index, "n": n, "text": f"hello {index}/{n}"}
        try:
            ack = await client.call("echo", payload)
        except Exception as exc:
            failures.append(f"client {index} ({client.source_ip}) event {n}: {exc!r}")
            continue
        if ack != payload:
            failures.append(f"client {index} event {n}: ack {ack!r} != {payload!r}")
    return failures


@pytest.mark.timeout(180)
@pytest.mark.parametrize("transports", TRANSPORTS)
def test_sixty_clients_exchange_acked_events_over_four_workers(
    cluster: SockdProcess, transports: list[str], source_addresses: SourceAddresses
) -> None:
    """60 clients from 30 addresses, 20 acked echoes each: no failure, >= 3 workers reached."""
    addresses = source_addresses(ADDRESSES)
    sources = [addresses[i % ADDRESSES] for i in range(CLIENTS)]

    async def scenario() -> tuple[list[str], list[dict[str, Any]]]:
        async with open_clients(cluster.port, sources, transports) as clients:
            await asyncio.gather(*(_wait_transport(c, transports) for c in clients))
            results = await asyncio.gather(
                *(_exchange(i, c) for i, c in enumerate(clients)), return_exceptions=True
            )
            failures: list[str] = []
            for result in results:
                failures.extend([repr(result)] if isinstance(result, BaseException) else result)
            infos = await asyncio.gather(*(c.whoami() for c in clients))
            # Still on the transport under test after the load (no silent downgrade).
            for client in clients:
                assert client.sio is not None
                assert client.sio.transport() == transports[-1], client
            return failures, infos

    failures, infos = asyncio.run(scenario())
    assert failures == [], f"{len(failures)} failed events, first ones: {failures[:5]}"
    pids = {info["pid"] for info in infos}
    workers = set(cluster.slot_pids().values())
    assert pids <= workers, f"whoami pids {pids} are not sockd workers {workers}"
    assert len(pids) >= 3, f"60 clients from 30 addresses reached only workers {pids}"
    assert len({info["sid"] for info in infos}) == CLIENTS


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_asgi_scope_client_is_the_real_client_address(
    cluster: SockdProcess, transports: list[str], source_addresses: SourceAddresses
) -> None:
    """scope["client"] carries the address the client bound, not the master's."""

    async def scenario() -> list[tuple[str, Any]]:
        sources = source_addresses(6)
        async with open_clients(cluster.port, sources, transports) as clients:
            infos = await asyncio.gather(*(c.whoami() for c in clients))
            return [
                (c.source_ip, info["scope_client"]) for c, info in zip(clients, infos, strict=True)
            ]

    seen = asyncio.run(scenario())
    assert all(source == scope for source, scope in seen), f"(bound, scope client): {seen}"


@pytest.mark.parametrize("transports", TRANSPORTS)
def test_handlers_see_the_real_client_address_in_environ(
    cluster: SockdProcess, transports: list[str], source_addresses: SourceAddresses
) -> None:
    """environ["REMOTE_ADDR"], what handlers read, is the real peer (ASGI mode fixes 127.0.0.1)."""

    async def scenario() -> list[tuple[str, Any]]:
        sources = source_addresses(6)
        async with open_clients(cluster.port, sources, transports) as clients:
            infos = await asyncio.gather(*(c.whoami() for c in clients))
            return [(c.source_ip, info["client"]) for c, info in zip(clients, infos, strict=True)]

    seen = asyncio.run(scenario())
    assert all(source == remote for source, remote in seen), f"(bound, REMOTE_ADDR): {seen}"
