"""``--sticky-key sid``: sessions spread whatever the source address, and reach their owner."""

from __future__ import annotations

import asyncio
import http.client
import json
from collections import Counter

import pytest

from sockd.wire.sid_tag import slot_of
from tests.harness import SockdLauncher, SourceAddresses, open_clients

ADDRESS_APP = "tests.apps.address_app:app"


async def _sessions_from_one_address(port: int, ip: str, count: int) -> dict[int, int]:
    async with open_clients(port, [ip] * count, ["polling"], limit=16) as clients:
        infos = await asyncio.gather(*(client.whoami() for client in clients))
        again = await asyncio.gather(*(client.whoami() for client in clients))
        assert [i["pid"] for i in again] == [i["pid"] for i in infos]
        assert all(client.connects == 1 for client in clients)
    return dict(Counter(info["pid"] for info in infos))


@pytest.mark.timeout(90)
def test_sessions_of_one_address_spread_over_workers(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd("--sticky-key", "sid", workers=4)
    counts = asyncio.run(_sessions_from_one_address(proc.port, source_addresses(1)[0], 50))
    assert len(counts) == 4, counts
    assert min(counts.values()) >= 6, counts  # least-loaded, not just "somewhere"


def _handshake(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", "/socket.io/?EIO=4&transport=polling")
    body = connection.getresponse().read()
    connection.close()
    return json.loads(body[1:])["sid"]


def test_keep_alive_connection_with_two_sessions_of_different_workers(
    sockd: SockdLauncher,
) -> None:
    proc = sockd("--sticky-key", "sid", workers=2, app=ADDRESS_APP)
    sids: dict[int, str] = {}
    for _ in range(20):
        sid = _handshake(proc.port)
        sids.setdefault(slot_of(sid), sid)
        if len(sids) == 2:
            break
    assert len(sids) == 2, sids
    first, second = sids[0], sids[1]
    connection = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=5)
    # Session of slot 0: the connection goes to slot 0's worker and serves it.
    connection.request("POST", f"/socket.io/?EIO=4&transport=polling&sid={first}", body=b"40")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"ok")
    # Same connection, session of slot 1: sent home with the same URL, connection closed.
    path = f"/socket.io/?EIO=4&transport=polling&sid={second}"
    connection.request("POST", path, body=b"40")
    response = connection.getresponse()
    response.read()
    assert response.status == 307
    assert response.getheader("location") == path
    assert response.getheader("connection") == "close"
    connection.close()
    # The repeat, on a new connection, reaches the owner.
    connection = http.client.HTTPConnection("127.0.0.1", proc.port, timeout=5)
    connection.request("POST", response.getheader("location"), body=b"40")
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"ok")
    connection.close()
