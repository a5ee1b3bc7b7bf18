"""The connection onion on a real python-socketio server, in-process: middleware runs in
order at connect, the code after ``await next()`` unwinds in reverse at disconnect after
the ``disconnecting`` and ``disconnect`` controllers, and every refusal reaches the client
as ``connect_error`` with its message (and data)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest

from sockd.app import ConnectionRejected, Context
from sockd.worker.app_model import runtime
from sockd.worker.app_model.middleware import Middleware, Next
from tests.harness import starlette_session_cookie
from tests.unit.worker.app_model.inprocess import SECRET, AppModel, settle


def layer(name: str, journal: list[str]) -> Middleware:
    async def middleware(ctx: Context, next: Next) -> None:
        journal.append(f"{name} in")
        ctx.state.setdefault("layers", []).append(name)
        try:
            await next()
        finally:
            journal.append(f"{name} out")

    return middleware


def recorder(journal: list[str]) -> Any:
    async def controller(ctx: Context) -> None:
        journal.append(f"{ctx.event}: {ctx.args[0]} {ctx.state['layers']}")

    return controller


def model_with_layers(journal: list[str]) -> AppModel:
    model = AppModel()
    model.namespace(
        "/",
        connection=[layer("outer", journal), layer("inner", journal)],
        routes={"disconnecting": recorder(journal), "disconnect": recorder(journal)},
    )
    return model


@pytest.mark.parametrize(
    ("leave", "reason"),
    [
        ("namespace", "client namespace disconnect"),
        ("transport", "transport close"),
    ],
)
def test_the_onion_spans_the_connection_and_unwinds_after_the_disconnect_controllers(
    leave: str, reason: str
) -> None:
    journal: list[str] = []

    async def scenario() -> None:
        client = model_with_layers(journal).client()
        assert "sid" in await client.connect()
        assert journal == ["outer in", "inner in"], "connected: the onion waits inside"
        await (client.leave() if leave == "namespace" else client.close_transport())
        await settle(lambda: "outer out" in journal, "the onion unwound")

    asyncio.run(scenario())
    assert journal == [
        "outer in",
        "inner in",
        f"disconnecting: {reason} ['outer', 'inner']",
        f"disconnect: {reason} ['outer', 'inner']",
        "inner out",
        "outer out",
    ]


def test_a_server_side_disconnect_is_named_so() -> None:
    journal: list[str] = []

    async def kick(ctx: Context) -> None:
        await ctx.socket.disconnect()

    async def scenario() -> None:
        model = AppModel()
        model.namespace(
            "/",
            connection=[layer("only", journal)],
            routes={"kick": kick, "disconnect": recorder(journal)},
        )
        client = model.client()
        await client.connect()
        await client.emit("kick")
        await settle(lambda: "only out" in journal, "the onion unwound")

    asyncio.run(scenario())
    assert journal[1:] == ["disconnect: server namespace disconnect ['only']", "only out"]


def test_the_context_holds_the_handshake() -> None:
    seen: dict[str, Any] = {}

    async def look(ctx: Context, next: Next) -> None:
        seen.update(
            address=ctx.request.address,
            query=ctx.request.query.get("user"),
            header=ctx.request.headers.get("x-team"),
            session=ctx.session,
            auth=ctx.auth,
            socket=ctx.socket.id,
        )
        await next()

    cookie = starlette_session_cookie({"name": "ada"}, SECRET)

    async def scenario() -> str:
        model = AppModel()
        model.namespace("/", connection=[look])
        client = model.client({"X-Team": "blue", "Cookie": f"theme=dark; {cookie}"})
        return str((await client.connect(auth={"token": "t"}))["sid"])

    sid = asyncio.run(scenario())
    assert seen == {
        "address": "192.0.2.7",
        "query": "ada",
        "header": "blue",
        "session": {"name": "ada"},
        "auth": {"token": "t"},
        "socket": sid,
    }


def refusing(error: Exception | None) -> Middleware:
    async def gate(ctx: Context, next: Next) -> None:
        if error is not None:
            raise error
        # returning without next(): a refusal too

    return gate


@pytest.mark.parametrize(
    ("error", "answer"),
    [
        (ConnectionRejected("denied", {"code": 42}), {"message": "denied", "data": {"code": 42}}),
        (ConnectionRejected("denied"), {"message": "denied"}),
        (RuntimeError("gate crashed"), {"message": "gate crashed"}),
        (None, {"message": "Connection rejected"}),
    ],
    ids=["rejected with data", "rejected", "crashed", "no next()"],
)
def test_a_refusal_reaches_the_client_and_inner_layers_never_run(
    error: Exception | None, answer: dict[str, Any]
) -> None:
    journal: list[str] = []

    async def scenario() -> dict[str, Any]:
        model = AppModel()
        model.namespace(
            "/",
            connection=[layer("outer", journal), refusing(error), layer("inner", journal)],
            routes={"disconnect": recorder(journal)},
        )
        return await model.client().connect()

    assert asyncio.run(scenario()) == {"error": answer}
    assert journal == ["outer in", "outer out"], "no disconnect for a client never connected"


def test_a_middleware_that_never_decides_is_refused_at_the_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime, "CONNECT_TIMEOUT", 0.01)
    cancelled = []

    async def stuck(ctx: Context, next: Next) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> dict[str, Any]:
        model = AppModel()
        model.namespace("/", connection=[stuck])
        answer = await model.client().connect()
        await settle(lambda: bool(cancelled), "the stuck middleware cancelled")
        return answer

    caplog.set_level(logging.ERROR, "sockd.app")
    assert asyncio.run(scenario()) == {"error": {"message": "connection middleware timed out"}}
    assert "connection middleware did not finish" in caplog.text


def test_a_middleware_that_hangs_at_unwinding_is_cancelled_at_the_bound(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runtime, "UNWIND_TIMEOUT", 0.01)
    cancelled = []

    async def hangs_after(ctx: Context, next: Next) -> None:
        await next()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> None:
        model = AppModel()
        model.namespace("/", connection=[hangs_after])
        client = model.client()
        await client.connect()
        await client.leave()
        await asyncio.wait_for(until(lambda: bool(cancelled)), 2)

    caplog.set_level(logging.ERROR, "sockd.app")
    asyncio.run(scenario())
    assert "connection middleware still running" in caplog.text


async def until(done: Callable[[], bool]) -> None:
    """Turns of the loop while a timer of the code under test runs out (bounded by the caller)."""
    while not done():
        await asyncio.sleep(0)


def test_namespaces_have_onions_of_their_own() -> None:
    journal: list[str] = []

    async def scenario() -> dict[str, Any]:
        model = AppModel()
        model.namespace("/", connection=[layer("root", journal)])
        model.namespace("/admin", connection=[refusing(ConnectionRejected("admins only"))])
        client = model.client()
        await client.connect()
        answer = await client.connect("/admin")
        assert journal == ["root in"], "the refusal in /admin leaves / connected"
        return answer

    assert asyncio.run(scenario()) == {"error": {"message": "admins only"}}


def test_a_client_event_named_disconnect_is_not_a_disconnect() -> None:
    """python-socketio hands a client's EVENT "disconnect" to the disconnect handler."""
    journal: list[str] = []

    async def ping(ctx: Context) -> str:
        return "pong"

    async def scenario() -> None:
        model = model_with_layers(journal)
        model.io.route("ping", ping)
        client = model.client()
        await client.connect()
        assert await client.call("disconnect", "forged reason") == []
        assert journal == ["outer in", "inner in"], "no controller ran, nothing unwound"
        assert await client.call("ping") == ["pong"], "the connection still serves"
        await client.leave()
        await settle(lambda: "outer out" in journal, "the onion unwound")

    asyncio.run(scenario())
    assert journal[2:] == [
        "disconnecting: client namespace disconnect ['outer', 'inner']",
        "disconnect: client namespace disconnect ['outer', 'inner']",
        "inner out",
        "outer out",
    ]


def test_a_client_event_named_connect_is_not_a_handshake() -> None:
    """python-socketio hands a client's EVENT "connect" to the connect handler, with the
    event's first argument as the environ: a forged request must not reach middleware."""
    requests: list[Any] = []

    async def remember(ctx: Context, next: Next) -> None:
        requests.append(ctx.request.address)
        await next()

    async def scenario() -> None:
        model = AppModel()
        model.namespace("/", connection=[remember])
        client = model.client()
        await client.connect()
        forged = {"asgi.scope": {"client": ["203.0.113.66", 1], "path": "/socket.io/"}}
        assert await client.call("connect", forged, {"name": "mallory"}) == []

    asyncio.run(scenario())
    assert requests == ["192.0.2.7"], "the connection middleware ran once, for the handshake"
