"""Gap 9 with real clients: after the server ends an Engine.IO session, clients come back.

The app ends the session with ``sio.eio.disconnect(sid)``, as a kick, a recycle or a drain
does. Against plain python-engineio 4.15 the server sends the close packet and leaves the
transport open: python-socketio's client then never reconnects, and the official JavaScript
client (on WebSocket) waits for its ping timeout, 45 s with the defaults. With sockd both
must be reconnected and echoing within 2 seconds. The JavaScript client is socket.io-client
4.x from tests/js (``npm ci`` there; the test runs it when node_modules is missing).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from typing import Any

import pytest

from tests.harness import (
    REPO_ROOT,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    base_url,
    open_clients,
    wait_until,
)

PROTOCOL_APP = "tests.apps.protocol_app:sio"
RECONNECT_BOUND = 2.0
JS_DIR = REPO_ROOT / "tests" / "js"
NPM_TIMEOUT = 300.0
NODE_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def cluster(sockd_module: SockdLauncher) -> SockdProcess:
    return sockd_module(app=PROTOCOL_APP, workers=2, sticky=True)


@pytest.fixture
def source(source_addresses: SourceAddresses) -> str:
    """A loopback source address of its own for one test."""
    return source_addresses(1)[0]


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with socket.io-client installed in tests/js (skip without node/npm)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the official JavaScript client")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
        assert installed.returncode == 0, f"npm ci in {JS_DIR} failed:\n{installed.stderr}"
    return node


@pytest.mark.parametrize("transports", [["polling"], ["websocket"]], ids=["polling", "websocket"])
def test_python_client_reconnects_after_the_server_ends_its_session(
    cluster: SockdProcess, source: str, transports: list[str]
) -> None:

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], Any, list[Any]]:
        async with open_clients(cluster.port, [source], transports) as [client]:
            assert client.sio is not None
            before = await client.call("whoami")
            deadline = time.monotonic() + RECONNECT_BOUND
            await client.sio.emit("end_transport")
            await wait_until(
                lambda: client.connects >= 2 and client.connected,
                RECONNECT_BOUND,
                "the client to reconnect",
            )
            left = max(0.0, deadline - time.monotonic())
            echoed = await asyncio.wait_for(client.sio.call("echo", "after"), left)
            return before, await client.call("whoami"), echoed, client.disconnects

    before, after, echoed, disconnects = asyncio.run(scenario())
    assert echoed == "after"
    assert after["eio_sid"] != before["eio_sid"], "the same Engine.IO session: no reconnect"
    assert "server disconnect" not in disconnects, disconnects


@pytest.mark.parametrize("transports", ["polling,websocket", "websocket"])
def test_javascript_client_reconnects_after_the_server_ends_its_session(
    cluster: SockdProcess, node: str, source: str, transports: str
) -> None:
    """socket.io-client 4.x, upgraded to WebSocket (or WebSocket only)."""
    run = subprocess.run(
        [node, "reconnect.js", base_url(cluster.port), source, transports],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    assert lines, f"node printed nothing (exit {run.returncode}):\n{run.stderr}"
    result = json.loads(lines[-1])
    assert run.returncode == 0, f"not back within {RECONNECT_BOUND:.0f}s: {result}"
    assert result["transportBefore"] == "websocket", result
    assert result["reason"] in ("transport close", "transport error"), result
    assert result["eioSidAfter"] != result["eioSidBefore"], result
