"""egg-socket.io's programming model on a real sockd with two workers.

The app under test is tests/apps/eggapp: connection and packet middleware that note
when they run, class and function controllers, routes on three namespaces, routed
system events, a session cookie and an async ``generate_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from tests.e2e.protocol_wire import Wire, ask
from tests.harness import (
    REPO_ROOT,
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    starlette_session_cookie,
)

EGGAPP = str(REPO_ROOT / "tests" / "apps" / "eggapp")
SECRET = "eggapp-test-secret"


@pytest.fixture(scope="module")
def server(sockd_module: SockdLauncher) -> Iterator[SockdProcess]:
    yield sockd_module(app=EGGAPP, workers=2)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def connected(port: int, ip: str, **options: Any) -> Client:
    client = Client(port, ip, ["websocket"], **options)
    return await client.connect()


def test_onion_order_at_connect_packet_and_disconnect(
    server: SockdProcess, source_addresses: SourceAddresses
) -> None:
    [ip] = source_addresses(1)

    async def scenario() -> None:
        first = await connected(server.port, ip)
        witness = await connected(server.port, ip)  # same address: same worker
        try:
            pong = await first.call("ping", (1, 2))
            assert pong["args"] == [1, 2]
            assert pong["trace"] == [
                "connect:outer:before",
                "connect:inner:before",
                "ping:outer_packet:before",
                "ping:inner_packet:before",
                "ping:controller",
            ]
            sid = first.sid
            await first.close()

            # The server processes the disconnect on its own time: poll the trace.
            async def full_trace() -> list[str]:
                return await witness.call("trace", sid)

            deadline = asyncio.get_running_loop().time() + 10
            trace = await full_trace()
            while "connect:outer:after" not in trace:
                assert asyncio.get_running_loop().time() < deadline, trace
                await asyncio.sleep(0.05)
                trace = await full_trace()
            assert trace[5:] == [
                "ping:inner_packet:after",
                "ping:outer_packet:after",
                "disconnecting:controller rooms=1",
                "disconnect:controller",
                "connect:inner:after",
                "connect:outer:after",
            ]
        finally:
            await witness.close()

    run(scenario())


async def refusal(port: int, ip: str, auth: dict[str, Any]) -> dict[str, Any]:
    """What a client refused at connect receives as ``connect_error``."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            f"http://127.0.0.1:{port}", auth=auth, transports=["websocket"], wait_timeout=10
        )
    await client.shutdown()
    assert errors, "no connect_error reached the client"
    return errors[0]


@pytest.mark.parametrize(
    ("deny", "expected"),
    [
        ("raise", {"message": "denied by gate", "data": {"code": 42}}),
        ("silent", {"message": "Connection rejected"}),
        ("crash", {"message": "gate crashed"}),
    ],
)
def test_connection_middleware_rejects(
    server: SockdProcess, deny: str, expected: dict[str, Any], source_addresses: SourceAddresses
) -> None:
    mark = server.line_count()
    assert run(refusal(server.port, source_addresses(1)[0], {"deny": deny})) == expected
    if deny == "crash":  # an unexpected error is logged with its traceback
        server.wait_for_line("RuntimeError: gate crashed", timeout=10, since=mark)


def test_controllers_acks_and_errors(
    server: SockdProcess, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        client = await connected(server.port, source_addresses(1)[0])
        try:
            assert await client.call("add", (1, 2, 39)) == 42  # a function controller
            mark = server.line_count()
            failed = await client.call("fail")
            assert failed == {"error": "controller failed on purpose"}
            line = await asyncio.to_thread(server.wait_for_line, "event fail sid", 10, mark)
            assert f"namespace / event fail sid {client.sid} failed" in line
            await asyncio.to_thread(
                server.wait_for_line, "ValueError: controller failed on purpose", 10, mark
            )
            trace = await client.call("trace", client.sid)
            assert "error:error controller: controller failed on purpose" in trace
            # Packet middleware: stopped before the controller, or failing itself.
            assert await client.call("blocked") is None
            assert "blocked:controller" not in await client.call("trace", client.sid)
            assert await client.call("explode") == {"error": "packet middleware exploded"}
            # An unrouted event goes through packet middleware and is acked at once.
            assert await client.call("nobody_listens", 1) is None
            trace = await client.call("trace", client.sid)
            assert "nobody_listens:outer_packet:after" in trace
        finally:
            await client.close()

    run(scenario())


def test_namespaced_routes_and_unknown_namespace(
    server: SockdProcess, source_addresses: SourceAddresses
) -> None:
    [ip] = source_addresses(1)

    async def scenario() -> None:
        client = await connected(server.port, ip, namespaces=["/", "/admin", "/free"])
        try:
            assert client.sio is not None
            hello_admin = await client.sio.call("hello", namespace="/admin", timeout=10)
            hello_free = await client.sio.call("hello", namespace="/free", timeout=10)
            assert (hello_admin, hello_free) == ("hello from /admin", "hello from /free")
            mark = server.line_count()
            await client.sio.disconnect()
            # The /admin disconnect controller fails on purpose: logged, nothing else.
            await asyncio.to_thread(
                server.wait_for_line, "namespace /admin event disconnect sid", 10, mark
            )
        finally:
            await client.close()
        stranger = Client(server.port, ip, ["websocket"], namespaces=["/nope"])
        with pytest.raises(Exception, match="failed to connect"):
            await stranger.connect(timeout=10)
        await stranger.close()
        # The worker that logged the failing disconnect controller still serves.
        again = await connected(server.port, ip)
        assert await again.call("add", (2, 2)) == 4
        await again.close()

    run(scenario())


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [
        pytest.param(
            lambda: starlette_session_cookie({"user": "alice"}, SECRET),
            {"user": "alice"},
            id="present",
        ),
        pytest.param(lambda: None, {}, id="absent"),
        pytest.param(
            lambda: starlette_session_cookie({"user": "alice"}, secret="someone-else"),
            {},
            id="tampered",
        ),
    ],
)
def test_session_from_the_handshake_cookie(
    server: SockdProcess, cookie: Any, expected: dict[str, str], source_addresses: SourceAddresses
) -> None:
    header = cookie()

    async def scenario() -> dict[str, Any]:
        headers = {"Cookie": header} if header else {}
        client = await connected(server.port, source_addresses(1)[0], headers=headers)
        try:
            return (await client.call("ping"))["session"]
        finally:
            await client.close()

    mark = server.line_count()
    assert run(scenario()) == expected
    if header and not expected:
        server.wait_for_line("ignoring a session cookie", timeout=10, since=mark)


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_generate_id_names_the_socket(server: SockdProcess, transport: str) -> None:
    async def scenario() -> None:
        sio = socketio.AsyncClient(reconnection=False)
        await sio.connect(
            f"http://127.0.0.1:{server.port}?user=alice&q=hello&usersid=1",
            headers={"X-Test": "yes"},
            transports=[transport],
            wait_timeout=10,
        )
        try:
            pong = await sio.call("ping", timeout=10)
            assert re.fullmatch(r"alice-[0-9a-f]{12}", pong["sid"]), pong["sid"]
            assert pong["sid"] == sio.get_sid() == sio.eio.sid
            assert (pong["query"], pong["header"], pong["client"]) == ("hello", "yes", "127.0.0.1")
        finally:
            # A polling client's shutdown waits for its pending poll; do not wait a ping for it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sio.shutdown(), 1)

    run(scenario())


def http_get(port: int, path: str, cookie: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_http_side_login_sets_the_session_that_sockets_read(
    server: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """app/http.py on the same port: its login's cookie is the socket's ``ctx.session``."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/login",
        data=json.dumps({"user": "alice", "role": "admin"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read()) == {"user": "alice", "role": "admin"}
        cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    assert http_get(server.port, "/status", cookie) == (
        200,
        json.dumps({"started": True, "session": {"user": "alice", "role": "admin"}}).replace(
            " ", ""
        ),
    )

    async def scenario() -> dict[int, dict[str, Any]]:
        """Worker pid -> the session a socket there read; sources until both workers seen."""
        seen: dict[int, dict[str, Any]] = {}
        for ip in source_addresses(16):
            client = await connected(server.port, ip, headers={"Cookie": cookie})
            try:
                pong = await client.call("ping")
            finally:
                await client.close()
            seen[pong["pid"]] = pong["session"]
            if len(seen) == 2:
                break
        return seen

    seen = run(scenario())
    assert list(seen.values()) == [{"user": "alice", "role": "admin"}] * 2


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", (200, "http /")),  # no app/public/index.html: the HTTP side answers
        ("/public/hello.txt", (200, "static hello\n")),  # a file of app/public/ wins
        ("/public/missing.txt", (200, "http /public/missing.txt")),
        ("/nowhere", (404, "Not Found")),  # the HTTP side's own 404
    ],
)
def test_http_side_precedence(server: SockdProcess, path: str, expected: tuple[int, str]) -> None:
    assert http_get(server.port, path) == expected


async def departure(port: int, ip: str, leave: Any) -> Any:
    """Connect a raw WebSocket client, let ``leave(ws)`` end it; the reason the app heard."""
    async with Wire(port, ip) as wire:
        ws, _ = await wire.socketio_websocket()
        witness, _ = await wire.socketio_websocket()  # same address: same worker
        [sid] = await ask(ws, 1, "ping")
        await leave(ws, wire)
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            # Not heard yet: the controller returned None, an ack without arguments.
            reason = next(iter(await ask(witness, 2, "reason", sid["sid"])), None)
            if reason is not None or asyncio.get_running_loop().time() > deadline:
                return reason
            await asyncio.sleep(0.05)


async def namespace_disconnect(ws: Any, wire: Wire) -> None:
    await ws.send("41")  # Socket.IO DISCONNECT; the Engine.IO session stays open
    await asyncio.sleep(0.2)


async def close_transport(ws: Any, wire: Wire) -> None:
    await ws.close()


async def kicked(ws: Any, wire: Wire) -> None:
    await ask(ws, 3, "kick")


@pytest.mark.parametrize(
    ("leave", "reason"),
    [
        (namespace_disconnect, "client namespace disconnect"),
        (close_transport, "transport close"),
        (kicked, "server namespace disconnect"),
    ],
)
def test_disconnect_controllers_hear_socketio_reasons(
    server: SockdProcess, leave: Any, reason: str, source_addresses: SourceAddresses
) -> None:
    assert run(departure(server.port, source_addresses(1)[0], leave)) == reason


def test_a_polling_clients_close_packet_is_a_transport_close(
    server: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """Node names the Engine.IO close packet a transport close; python-engineio, a client
    disconnect."""

    async def scenario() -> Any:
        async with Wire(server.port, source_addresses(1)[0]) as wire:
            witness, _ = await wire.socketio_websocket()
            eio_sid = await wire.socketio_polling()
            assert (await wire.push(eio_sid, "1")).status == 200
            deadline = asyncio.get_running_loop().time() + 10
            while True:
                [reason] = await ask(witness, 1, "reason", eio_sid)
                if reason is not None or asyncio.get_running_loop().time() > deadline:
                    return reason
                await asyncio.sleep(0.05)

    assert run(scenario()) == "transport close"
