"""The socket.io Admin UI's server side (python-socketio's ``sio.instrument()``) served by a
4-worker sockd, spoken to as the UI speaks: its namespace, its events and commands.

The UI must see one cluster: every worker in its server list, every worker's sockets in
``all_sockets``, events from sockets on any worker, and its commands (join, disconnect)
applied to sockets on any worker. The instrumented app keeps sockd's protocol fixes.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Sequence
from typing import Any

import aiohttp
import pytest
import socketio

from tests.harness import (
    Client,
    SockdLauncher,
    SourceAddresses,
    base_url,
    by_worker,
    open_clients,
    wait_until,
)

APP = "tests.apps.admin_app:sio"
#: The app's credentials (not imported: importing the app instruments python-socketio's
#: classes in the test process itself).
AUTH = {"username": "admin", "password": "s3cret"}
WORKERS = 4


class AdminClient:
    """The Admin UI's side of the ``/admin`` namespace: what it received, by event."""

    def __init__(self, port: int, source_ip: str) -> None:
        self.port = port
        self.source_ip = source_ip
        self.received: dict[str, list[tuple[Any, ...]]] = {}
        self.session: aiohttp.ClientSession | None = None
        self.sio: socketio.AsyncClient | None = None

    async def connect(self, auth: Any) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(self.source_ip, 0))
        )
        self.sio = socketio.AsyncClient(http_session=self.session, reconnection=False)
        self.sio.on("*", self._record, namespace="/admin")
        await self.sio.connect(
            base_url(self.port), namespaces=["/admin"], auth=auth, transports=["websocket"],
            wait_timeout=10,
        )  # fmt: skip

    async def _record(self, event: str, *args: Any) -> None:
        self.received.setdefault(event, []).append(args)

    def first(self, event: str) -> Any:
        return self.received[event][0][0]

    async def command(self, event: str, *args: Any) -> None:
        assert self.sio is not None
        await self.sio.emit(event, args, namespace="/admin")

    async def close(self) -> None:
        if self.sio is not None:
            await asyncio.wait_for(self.sio.shutdown(), 5)
        if self.session is not None:
            await self.session.close()


def _server_ids(admin: AdminClient) -> set[str]:
    return {args[0]["serverId"] for args in admin.received.get("server_stats", [])}


def test_the_admin_ui_sees_and_drives_every_workers_sockets(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app=APP, workers=WORKERS)
    addresses = source_addresses(20)

    async def scenario() -> None:
        async with open_clients(proc.port, addresses[:16], ["websocket"]) as clients:
            groups = await by_worker(clients)
            assert len(groups) == WORKERS
            await asyncio.gather(*(c.call("join", "lobby") for c in clients[::2]))
            refused = AdminClient(proc.port, addresses[16])
            with pytest.raises(socketio.exceptions.ConnectionError):
                await refused.connect({"username": "admin", "password": "wrong"})
            await refused.close()
            admin = AdminClient(proc.port, addresses[17])
            try:
                await admin.connect(AUTH)
                await _sees_everything(admin, clients, groups)
                await _drives_any_worker(admin, clients, proc.port, addresses[18])
            finally:
                await admin.close()

    asyncio.run(scenario())


async def _sees_everything(
    admin: AdminClient, clients: Sequence[Client], groups: dict[int, list[Client]]
) -> None:
    await wait_until(lambda: "all_sockets" in admin.received, 10.0, "all_sockets")
    assert "MJOIN" in admin.first("config")["supportedFeatures"]
    listed = {s["id"]: s for s in admin.first("all_sockets") if s["nsp"] == "/"}
    assert set(listed) == {c.sid for c in clients}, "every worker's sockets, once each"
    for client in clients:
        socket = listed[client.sid]
        assert socket["handshake"]["address"] == client.source_ip
        assert ("lobby" in socket["rooms"]) == (client in clients[::2])
        assert socket["transport"] == "websocket"
    await wait_until(lambda: len(_server_ids(admin)) == WORKERS, 10.0, "every worker's stats")
    stats = [args[0] for args in admin.received["server_stats"]]
    assert {s["pid"] for s in stats} == set(groups)
    assert len({s["serverId"] for s in stats}) == WORKERS


async def _drives_any_worker(
    admin: AdminClient, clients: Sequence[Client], port: int, newcomer_ip: str
) -> None:
    # A socket connecting on any worker is reported.
    async with open_clients(port, [newcomer_ip], ["websocket"]) as (newcomer,):
        await wait_until(
            lambda: any(
                a[0]["id"] == newcomer.sid for a in admin.received.get("socket_connected", [])
            ),
            10.0,
            "the newcomer's socket_connected",
        )
    # Join and disconnect, applied on whichever worker holds the socket.
    target = clients[1]
    await admin.command("join", "/", "vip", target.sid)
    await wait_until(
        lambda: any(
            a[1] == "vip" and a[2] == target.sid for a in admin.received.get("room_joined", [])
        ),
        10.0,
        "room_joined",
    )
    await admin.command("_disconnect", "/", False, target.sid)
    await wait_until(lambda: target.disconnects != [], 10.0, "the disconnect")
    assert all(c.disconnects == [] for c in clients if c is not target)


def test_an_instrumented_app_keeps_sockds_protocol_fixes(sockd: SockdLauncher) -> None:
    """Instrumenting replaced the server's methods on the objects of import time; a POST is
    still answered ``ok`` as the specification says (sockd's fix, not the library's OK)."""
    proc = sockd(app=APP, workers=1)
    url = f"{base_url(proc.port)}/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(url, timeout=10) as reply:
        sid = reply.read().decode().split('"sid":"', 1)[1].split('"', 1)[0]
    post = urllib.request.Request(f"{url}&sid={sid}", data=b"40", method="POST")
    with urllib.request.urlopen(post, timeout=10) as reply:
        assert reply.read() == b"ok"
