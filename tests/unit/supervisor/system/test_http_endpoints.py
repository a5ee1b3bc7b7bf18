"""The master's HTTP listener, in-process on a real socket: what it answers, and its bounds."""

from __future__ import annotations

import asyncio

from sockd.config.bind import BindAddress
from sockd.supervisor.system import http_endpoints
from sockd.supervisor.system.http_endpoints import HEAD_LIMIT, HttpEndpoint
from tests.unit.worker.protocol.test_fixes_in_process import settled


async def exchange(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    try:
        return await asyncio.wait_for(reader.read(), 2)
    except ConnectionResetError:
        return b""  # cut off
    finally:
        writer.close()


async def serving(scenario: object) -> list[bytes]:
    endpoint = HttpEndpoint(
        BindAddress("127.0.0.1", 0), {"/ok": lambda: (200, "text/plain", b"fine\n")}, "--test"
    )
    await endpoint.start()
    assert endpoint._server is not None
    port = endpoint._server.sockets[0].getsockname()[1]
    try:
        return await scenario(port, endpoint)  # type: ignore[operator, no-any-return]
    finally:
        await endpoint.close()


def test_get_head_unknown_paths_and_methods() -> None:
    async def scenario(port: int, endpoint: HttpEndpoint) -> list[bytes]:
        return [
            await exchange(port, b"GET /ok?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
            await exchange(port, b"HEAD /ok HTTP/1.0\r\n\r\n"),
            await exchange(port, b"GET /nothing HTTP/1.1\r\n\r\n"),
            await exchange(port, b"POST /ok HTTP/1.1\r\n\r\n"),
        ]

    get, head, missing, post = asyncio.run(serving(scenario))
    assert get.startswith(b"HTTP/1.1 200 OK\r\n") and get.endswith(b"\r\n\r\nfine\n")
    assert b"Content-Length: 5\r\n" in head and head.endswith(b"\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 404 ")
    assert post.startswith(b"HTTP/1.1 405 ")


def test_a_request_head_past_the_bound_is_refused_and_a_client_past_the_cap_cut_off(
    monkeypatch: object,
) -> None:
    async def scenario(port: int, endpoint: HttpEndpoint) -> list[bytes]:
        huge = await exchange(port, b"GET /ok HTTP/1.1\r\nX: " + b"a" * HEAD_LIMIT + b"\r\n\r\n")
        await settled(lambda: not endpoint._clients)
        idle = await asyncio.open_connection("127.0.0.1", port)  # holds the one place
        await settled(lambda: len(endpoint._clients) == 1)
        refused = await exchange(port, b"GET /ok HTTP/1.1\r\n\r\n")
        idle[1].close()
        return [huge, refused]

    monkeypatch.setattr(http_endpoints, "MAX_CLIENTS", 1)  # type: ignore[attr-defined]
    huge, refused = asyncio.run(serving(scenario))
    assert huge.startswith(b"HTTP/1.1 431 ")
    assert refused == b"", "past the cap: closed at once, nothing answered"
