"""Stickiness behind a real nginx: PROXY protocol (stream) and X-Forwarded-For (http).

nginx connects to sockd from 127.0.0.1, so with ``--sticky-key ip`` every client lands on
one worker; with the client address from the PROXY header or X-Forwarded-For they spread,
and the app sees each client's own address.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.nginx import running_nginx
from tests.harness import SockdLauncher, SourceAddresses, open_clients

ADDRESS_APP = "tests.apps.address_app:app"
PROXY = "127.0.0.1/32"  # where nginx connects from; clients use their own addresses
CLIENTS = 200


async def _spread(port: int, sources: list[str]) -> dict[int, int]:
    """Connect polling clients from distinct addresses; pid -> clients, checked."""
    async with open_clients(port, sources, ["polling"], limit=24) as clients:
        infos = await asyncio.gather(*(client.whoami() for client in clients))
        for client, info in zip(clients, infos, strict=True):
            assert info["client"] == client.source_ip, info
            assert info["scope_client"] == client.source_ip, info
        # A second round trip on every session: polling sessions keep working.
        again = await asyncio.gather(*(client.whoami() for client in clients))
        assert [i["pid"] for i in again] == [i["pid"] for i in infos]
        assert all(client.connects == 1 for client in clients)
    return dict(Counter(info["pid"] for info in infos))


@pytest.mark.timeout(90)
def test_ip_key_behind_nginx_puts_everyone_on_one_worker(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    proc = sockd(workers=4)
    with running_nginx(tmp_path, "http.conf", "http", proc.port) as port:
        counts = asyncio.run(_spread_ip(port, source_addresses(20)))
    assert len(counts) == 1, counts


async def _spread_ip(port: int, sources: list[str]) -> dict[int, int]:
    async with open_clients(port, sources, ["polling"]) as clients:
        infos = await asyncio.gather(*(client.whoami() for client in clients))
    assert {info["client"] for info in infos} == {"127.0.0.1"}  # the proxy, not the client
    return {info["pid"]: 1 for info in infos}


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("key", "snippet", "mode"),
    [("forwarded", "http.conf", "http"), ("proxy-protocol", "stream.conf", "stream")],
)
def test_clients_spread_behind_nginx(
    sockd: SockdLauncher,
    tmp_path: Path,
    key: str,
    snippet: str,
    mode: str,
    source_addresses: SourceAddresses,
) -> None:
    proc = sockd("--sticky-key", key, "--trusted-proxy", PROXY, workers=4)
    with running_nginx(tmp_path, snippet, mode, proc.port) as port:
        counts = asyncio.run(_spread(port, source_addresses(CLIENTS)))
    assert len(counts) >= 3, counts
    assert sum(counts.values()) == CLIENTS


def _whoami(port: int, source: str, prefix: bytes = b"", headers: bytes = b"") -> dict | None:
    """``GET /whoami`` over a raw connection; ``None`` if the server closed it instead."""
    with socket.create_connection(("127.0.0.1", port), 5, source_address=(source, 0)) as sock:
        sock.sendall(
            prefix + b"GET /whoami HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers + b"\r\n"
        )
        response = b""
        try:
            while chunk := sock.recv(65536):
                response += chunk
        except ConnectionResetError:
            pass
    if not response:
        return None
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), response
    return json.loads(body)


def test_untrusted_peers_are_keyed_by_their_own_address(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    stranger, proxy = source_addresses(2)
    proc = sockd("--sticky-key", "forwarded", "--trusted-proxy", f"{proxy}/32", app=ADDRESS_APP)
    spoofed = b"X-Forwarded-For: 10.6.6.6\r\nForwarded: for=10.7.7.7\r\n"
    assert _whoami(proc.port, stranger, headers=spoofed)["client"] == stranger
    chain = f"X-Forwarded-For: 10.6.6.6, {proxy}\r\n".encode()
    trusted = _whoami(proc.port, proxy, headers=chain)
    assert trusted["client"] == "10.6.6.6"
    via = _whoami(proc.port, proxy, headers=b'Forwarded: for="[2001:db8::7]:4711"\r\n')
    assert (via["client"], via["port"]) == ("2001:db8::7", 4711)


def test_proxy_headers_only_from_trusted_peers(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    stranger, proxy = source_addresses(2)
    proc = sockd(
        "--sticky-key", "proxy-protocol", "--trusted-proxy", f"{proxy}/32", app=ADDRESS_APP
    )
    v1 = b"PROXY TCP4 10.1.2.3 10.0.0.1 4444 80\r\n"
    mark = proc.line_count()
    assert _whoami(proc.port, stranger, prefix=v1) is None
    proc.wait_for_line("PROXY protocol header from a peer not in --trusted-proxy", 10, mark)
    # A direct client that is not a proxy is served as itself.
    assert _whoami(proc.port, stranger)["client"] == stranger
    seen = _whoami(proc.port, proxy, prefix=v1)
    assert (seen["client"], seen["port"]) == ("10.1.2.3", 4444)
    # A trusted proxy must send the header.
    mark = proc.line_count()
    assert _whoami(proc.port, proxy) is None
    proc.wait_for_line("no PROXY protocol header from a trusted proxy", 10, mark)
