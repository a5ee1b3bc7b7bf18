"""TLS done by the workers on the passed raw connection: https polling and wss."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.harness import ECHO_APP, SockdLauncher, run_sockd

ADDRESS_APP = "tests.apps.address_app:app"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


async def _clients(port: int, cert: Path) -> list[dict]:
    import socketio

    context = ssl.create_default_context(cafile=str(cert))
    results = []
    for transports in (["polling"], ["websocket"], ["polling", "websocket"]):
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
        sio = socketio.AsyncClient(http_session=session, ssl_verify=True, handle_sigint=False)
        try:
            await asyncio.wait_for(
                sio.connect(f"https://127.0.0.1:{port}", transports=transports, wait_timeout=10),
                15,
            )
            results.append({**await sio.call("whoami", timeout=10), "transport": sio.transport()})
        finally:
            await asyncio.wait_for(sio.shutdown(), 5)
            await session.close()
        connector = aiohttp.TCPConnector(ssl=context)
        url = f"https://127.0.0.1:{port}/whoami"
        async with aiohttp.ClientSession(connector=connector) as plain, plain.get(url) as response:
            results.append(json.loads(await response.read()))
    return results


@pytest.mark.timeout(90)
def test_https_polling_and_wss(sockd: SockdLauncher, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    proc = sockd("--certfile", str(cert), "--keyfile", str(key), workers=2, app=ADDRESS_APP)
    results = asyncio.run(_clients(proc.port, cert))
    transports = [r["transport"] for r in results if "transport" in r]
    assert transports == ["polling", "websocket", "websocket"], results
    assert all(r["client"] == "127.0.0.1" for r in results), results
    assert {r["scheme"] for r in results if "scheme" in r} == {"https"}


def test_tls_with_forwarded_is_refused(
    certificate: tuple[Path, Path], free_port: Callable[[], int]
) -> None:
    cert, key = certificate
    finished = run_sockd(
        "start", ECHO_APP, "--port", str(free_port()),
        "--sticky-key", "forwarded", "--trusted-proxy", "127.0.0.1",
        "--certfile", str(cert), "--keyfile", str(key),
    )  # fmt: skip
    assert finished.returncode != 0
    assert "end TLS at the proxy" in finished.stderr
