"""The packet onion around the controller on a real python-socketio server, in-process:
middleware wraps each event (code after ``await next()`` runs after the controller), the
controller's return value is the ack, and errors are logged and answered."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from sockd.app import Context, Controller
from sockd.worker.app_model.controller import method_handler
from sockd.worker.app_model.middleware import Middleware, Next
from tests.unit.worker.app_model.inprocess import AppModel, Handler, settle


def around(name: str, journal: list[str]) -> Middleware:
    async def middleware(ctx: Context, next: Next) -> None:
        journal.append(f"{name} in {ctx.packet}")
        await next()
        journal.append(f"{name} out")

    return middleware


def ask(
    routes: dict[str, Handler],
    event: str,
    *args: Any,
    packet: list[Middleware] | None = None,
    connection: list[Middleware] | None = None,
) -> list[Any]:
    """Connect, send ``event`` with an ack id, return the ack's arguments."""

    async def scenario() -> list[Any]:
        model = AppModel()
        model.namespace("/", connection=connection or [], packet=packet or [], routes=routes)
        client = model.client()
        await client.connect()
        return await client.call(event, *args)

    return asyncio.run(scenario())


def test_packet_middleware_wraps_the_controller_whose_result_is_the_ack() -> None:
    journal: list[str] = []

    async def say(ctx: Context) -> dict[str, Any]:
        journal.append(f"controller {ctx.args}")
        return {"echo": ctx.args, "event": ctx.event}

    ack = ask(
        {"say": say}, "say", "hi", 2, packet=[around("outer", journal), around("inner", journal)]
    )
    assert ack == [{"echo": ["hi", 2], "event": "say"}]
    assert journal == [
        "outer in ['say', 'hi', 2]",
        "inner in ['say', 'hi', 2]",
        "controller ['hi', 2]",
        "inner out",
        "outer out",
    ]


def test_a_middleware_can_rewrite_the_packet_the_controller_sees() -> None:
    async def shout(ctx: Context, next: Next) -> None:
        ctx.packet[1] = ctx.packet[1].upper()
        await next()

    async def say(ctx: Context) -> str:
        return str(ctx.args[0])

    assert ask({"say": say}, "say", "hi", packet=[shout]) == ["HI"]


def test_a_middleware_that_does_not_call_next_stops_the_packet() -> None:
    journal: list[str] = []

    async def gate(ctx: Context, next: Next) -> None:
        journal.append("gate")

    async def say(ctx: Context) -> str:
        journal.append("controller")
        return "never"

    assert ask({"say": say}, "say", packet=[gate]) == []
    assert journal == ["gate"]


def test_unrouted_events_pass_through_the_onion_and_ack_nothing() -> None:
    journal: list[str] = []
    assert ask({}, "nobody-listens", 1, packet=[around("only", journal)]) == []
    assert journal == ["only in ['nobody-listens', 1]", "only out"]


@pytest.mark.parametrize("event", ["disconnect", "disconnecting", "error"])
def test_a_client_cannot_trigger_the_system_event_controllers(event: str) -> None:
    called = []

    async def system(ctx: Context) -> str:
        called.append(ctx.event)
        return "triggered"

    assert ask({event: system}, event, "forged reason") == []
    assert called == []


def test_connection_state_is_shared_by_every_packet() -> None:
    async def login(ctx: Context, next: Next) -> None:
        ctx.state["user"] = "ada"
        ctx.state["count"] = 0
        await next()

    async def count(ctx: Context) -> list[Any]:
        ctx.state["count"] += 1
        return [ctx.state["user"], ctx.state["count"]]

    async def scenario() -> list[list[Any]]:
        model = AppModel()
        model.namespace("/", connection=[login], routes={"count": count})
        client = model.client()
        await client.connect()
        return [await client.call("count") for _ in range(3)]

    assert asyncio.run(scenario()) == [[["ada", 1]], [["ada", 2]], [["ada", 3]]]


def test_class_controllers_get_a_fresh_instance_with_the_context() -> None:
    class Chat(Controller):
        instances = 0

        def __init__(self, ctx: Context) -> None:
            super().__init__(ctx)
            Chat.instances += 1

        async def say(self) -> list[Any]:
            return [self.ctx.event, *self.ctx.args, self.app is self.ctx.app]

    async def scenario() -> list[list[Any]]:
        model = AppModel()
        model.namespace("/", routes={"say": method_handler(Chat, "say")})
        client = model.client()
        await client.connect()
        return [await client.call("say", n) for n in range(2)]

    assert asyncio.run(scenario()) == [[["say", 0, True]], [["say", 1, True]]]
    assert Chat.instances == 2


# -- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "answer"),
    [(ValueError("no such room"), "no such room"), (KeyError(), "KeyError")],
    ids=["with a message", "without one"],
)
def test_a_failing_controller_is_logged_and_acked_with_the_error(
    error: Exception, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    journal: list[str] = []

    async def join(ctx: Context) -> None:
        raise error

    caplog.set_level(logging.ERROR, "sockd.app")
    ack = ask({"join": join}, "join", "lobby", packet=[around("outer", journal)])
    assert ack == [{"error": answer}]
    assert journal == ["outer in ['join', 'lobby']"], "the error unwinds the onion"
    assert "namespace / event join sid " in caplog.text and " failed" in caplog.text
    assert type(error).__name__ in caplog.text


def test_a_failing_packet_middleware_is_answered_the_same_way() -> None:
    async def broken(ctx: Context, next: Next) -> None:
        raise RuntimeError("filter broke")

    async def say(ctx: Context) -> str:
        return "never"

    assert ask({"say": say}, "say", packet=[broken]) == [{"error": "filter broke"}]


def test_the_error_controller_gets_the_error_and_its_own_failure_is_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[Any] = []

    async def join(ctx: Context) -> None:
        raise ValueError("no such room")

    async def on_error(ctx: Context) -> None:
        seen.append((ctx.event, ctx.args[0]))
        raise RuntimeError("the error handler broke too")

    caplog.set_level(logging.ERROR, "sockd.app")
    assert ask({"join": join, "error": on_error}, "join") == [{"error": "no such room"}]
    assert [(event, str(error)) for event, error in seen] == [("error", "no such room")]
    assert "the error controller failed" in caplog.text


def test_events_without_an_ack_id_are_handled_too() -> None:
    received: list[Any] = []

    async def note(ctx: Context) -> str:
        received.append(ctx.args)
        return "not sent: nobody asked"

    async def scenario() -> None:
        model = AppModel()
        model.namespace("/", routes={"note": note})
        client = model.client()
        await client.connect()
        await client.emit("note", {"a": 1})
        await settle(lambda: bool(received), "the controller ran")
        assert await client.call("note", 2) == ["not sent: nobody asked"]

    asyncio.run(scenario())
    assert received == [[{"a": 1}], [2]]
