"""--bind takes IPv6 addresses: [::1]:PORT serves clients that connect over IPv6."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.harness import (
    SockdLauncher,
    SourceAddresses,
    free_port_both,
    has_ipv6_loopback,
    open_clients,
)

pytestmark = pytest.mark.skipif(not has_ipv6_loopback(), reason="this machine has no ::1")


def test_bind_ipv6_loopback_serves_an_ipv6_client(
    sockd: SockdLauncher, free_port: Callable[[str], int]
) -> None:
    """A client of http://[::1]:PORT connects, gets acks, and is seen as ::1."""
    port = free_port("::1")
    proc = sockd(workers=2, sticky=True, bind=[f"[::1]:{port}"])

    async def scenario() -> None:
        for transports in (["polling"], ["websocket"]):
            async with open_clients(proc.port, ["::1"], transports, host="::1") as clients:
                client = clients[0]
                assert await client.call("echo", {"v6": True}) == {"v6": True}
                info = await client.whoami()
                assert info["scope_client"] == "::1", info
                assert info["pid"] in proc.slot_pids().values()

    asyncio.run(scenario())


def test_bind_repeated_serves_ipv4_and_ipv6_on_one_port(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """Two --bind options, one per family, both serve."""
    port = free_port_both()
    sockd(workers=2, sticky=True, bind=[f"127.0.0.1:{port}", f"[::1]:{port}"])
    [ip] = source_addresses(1)

    async def scenario() -> None:
        async with (
            open_clients(port, [ip], ["polling", "websocket"]) as v4,
            open_clients(port, ["::1"], ["polling", "websocket"], host="::1") as v6,
        ):
            assert (await v4[0].whoami())["scope_client"] == ip
            assert (await v6[0].whoami())["scope_client"] == "::1"
            assert await v4[0].call("echo", 4) == 4
            assert await v6[0].call("echo", 6) == 6

    asyncio.run(scenario())
