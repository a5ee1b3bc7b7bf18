"""``--bind unix:PATH``: a proxy on the same host reaches the app over a Unix socket.

Through a real nginx (``docs/nginx/unix.conf``) clients spread over the workers by their
X-Forwarded-For (a Unix socket's peers count as trusted proxies), and the app sees each
client's own address. A python-socketio client on the socket itself (aiohttp's
UnixConnector) reaches the app over polling and WebSocket; without a header to key on,
every such connection goes to one worker. The socket file is 0660, a stale one is
replaced at start, a live server's is refused, and the file goes at the stop.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import stat
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.e2e.nginx import running_nginx
from tests.harness import (
    ECHO_APP,
    SockdLauncher,
    SourceAddresses,
    open_clients,
    run_sockd,
)

CLIENTS = 40


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """Where the socket goes: a short path (sun_path holds 107 bytes, and pytest's tmp
    paths are long) in a private directory removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="sockd-unix-"))
    try:
        yield directory / "app.sock"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.timeout(120)
def test_nginx_reaches_the_app_over_the_unix_socket_and_clients_spread(
    sockd: SockdLauncher,
    tmp_path: Path,
    socket_path: Path,
    free_port: Callable[[], int],
    source_addresses: SourceAddresses,
) -> None:
    path = socket_path
    proc = sockd(
        "--sticky-key", "forwarded",
        bind=[f"127.0.0.1:{free_port()}", f"unix:{path}"], workers=3,
    )  # fmt: skip
    assert stat.S_IMODE(path.stat().st_mode) == 0o660

    async def spread(port: int) -> Counter[int]:
        sources = source_addresses(CLIENTS)
        transports = ["polling", "websocket"]
        async with open_clients(port, sources, transports, limit=16) as clients:
            infos = await asyncio.gather(*(client.whoami() for client in clients))
            for client, info in zip(clients, infos, strict=True):
                assert info["client"] == client.source_ip, info
            again = await asyncio.gather(*(client.whoami() for client in clients))
            assert [i["pid"] for i in again] == [i["pid"] for i in infos], "sticky"
        return Counter(info["pid"] for info in infos)

    with running_nginx(tmp_path, "unix.conf", "http", path) as port:
        counts = asyncio.run(spread(port))
    assert len(counts) == 3, counts
    assert proc.terminate() == 0
    assert not path.exists(), "the socket file goes with the master"


@pytest.mark.timeout(90)
def test_a_socketio_client_on_the_unix_socket_itself(
    sockd: SockdLauncher, socket_path: Path, free_port: Callable[[], int]
) -> None:
    path = socket_path
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # what a killed master leaves behind: nobody listens
    proc = sockd(app=ECHO_APP, bind=[f"127.0.0.1:{free_port()}", f"unix:{path}"], workers=2)

    async def over_unix(transports: list[str]) -> dict[str, object]:
        session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(path)))
        client = socketio.AsyncClient(http_session=session, handle_sigint=False)
        try:
            await asyncio.wait_for(
                client.connect("http://sockd", transports=transports, wait_timeout=10), 20
            )
            assert await client.call("echo", "over unix", timeout=10) == "over unix"
            info = await client.call("whoami", timeout=10)
            assert client.transport() == transports[-1]
            return dict(info)
        finally:
            await client.disconnect()
            await session.close()

    async def scenario() -> list[dict[str, object]]:
        return [await over_unix(t) for t in (["polling"], ["websocket"], ["polling", "websocket"])]

    infos = asyncio.run(scenario())
    # No address to key on: every connection on the socket goes to the same worker.
    assert len({info["pid"] for info in infos}) == 1, infos
    assert {info["client"] for info in infos} == {""}

    twin = run_sockd("start", ECHO_APP, "--bind", f"unix:{path}", "--title", "unix-twin")
    assert twin.returncode == 3, twin.stderr
    assert twin.stderr_lines() == [
        f"sockd: error: cannot listen on unix:{path}: a server already listens there "
        "(stop it, or pick another path)"
    ]
    assert path.exists(), "a live server's socket is never taken over"
    assert proc.terminate() == 0
    assert not path.exists()
