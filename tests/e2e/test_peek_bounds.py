"""The master's peeks: malformed PROXY headers, slow and silent clients, and their bounds."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sockd.supervisor.routing.keys.peek import Refused
from sockd.supervisor.routing.keys.proxy_protocol import V2_SIGNATURE, parse
from tests.harness import SockdLauncher, SourceAddresses, open_clients

V1 = st.builds(
    lambda fields, tail: ("PROXY " + " ".join(fields)).encode("utf-8", "replace") + tail,
    st.lists(st.text(max_size=20), max_size=8),
    st.sampled_from([b"\r\n", b"\n", b"", b"\r\nGET / HTTP/1.1\r\n\r\n"]),
)
V2 = st.builds(
    lambda version, family, length, body: (
        V2_SIGNATURE + bytes([version, family]) + struct.pack("!H", length) + body
    ),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 65535),
    st.binary(max_size=80),
)
HEADERS = st.one_of(V1, V2, st.binary(max_size=120))


@given(HEADERS)
def test_parser_never_raises_anything_but_refused(data: bytes) -> None:
    try:
        result = parse(data)
    except Refused:
        return
    if result is not None:
        _, length = result
        assert 0 < length <= len(data)


def _send_and_close(port: int, proxy: str, data: bytes) -> None:
    """From the trusted proxy's address; the master may refuse at any point (a reset)."""
    sock = socket.create_connection(("127.0.0.1", port), 5, (proxy, 0))
    with sock, contextlib.suppress(OSError):
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass


@pytest.mark.timeout(90)
def test_malformed_headers_neither_crash_the_master_nor_leak_fds(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    [proxy] = source_addresses(1)
    proc = sockd(
        "--sticky-key", "proxy-protocol", "--trusted-proxy", f"{proxy}/32", "--peek-timeout", "1"
    )  # fmt: skip
    master = psutil.Process(proc.pid)
    before = master.num_fds()

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(HEADERS)
    def send(data: bytes) -> None:
        _send_and_close(proc.port, proxy, data)

    send()
    deadline = asyncio.run(_settle(master, before))
    assert master.is_running() and master.status() != psutil.STATUS_ZOMBIE
    assert deadline, f"master holds {master.num_fds()} fds, had {before}"


async def _settle(master: psutil.Process, before: int) -> bool:
    """Whether the master's fd count returns to ``before`` within the peek bound and some."""
    for _ in range(60):
        if master.num_fds() <= before:
            return True
        await asyncio.sleep(0.1)
    return False


async def _slowloris(
    port: int, idle: int, proxies: ipaddress.IPv4Network, clients: list[str]
) -> None:
    sockets = []
    try:
        for index in range(idle):
            _, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(str(proxies[2 + index % 250]), 0)
            )
            if index % 2:
                writer.write(b"PROXY TCP4 1.2.3.4 ")  # a header that never ends
            sockets.append(writer)
        # Real clients from the trusted proxy's side of things: the direct clients still
        # get through while 500 connections sit in the peek.
        async with open_clients(port, clients, ["polling", "websocket"]) as clients:
            infos = await asyncio.gather(*(client.whoami() for client in clients))
        seen = [info["client"] for info in infos]
        assert seen == [client.source_ip for client in clients]
    finally:
        for writer in sockets:
            writer.close()


@pytest.mark.timeout(90)
def test_slowloris_does_not_stall_other_clients(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proxies = source_addresses.network()
    proc = sockd(
        "--sticky-key", "proxy-protocol", "--trusted-proxy", str(proxies),
        "--peek-timeout", "3", workers=2,
    )  # fmt: skip
    mark = proc.line_count()
    asyncio.run(_slowloris(proc.port, 500, proxies, source_addresses(20)))
    proc.wait_for_line("no usable request within 3s", 15, mark)
