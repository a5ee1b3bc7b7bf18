"""A hot path that goes around a library method leaves it to an app's server class that
overrides it: the override is still called, as behind every other compat entry."""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import socketio

from sockd.worker.hot_path.app_overrides import app_overrides
from sockd.worker.hot_path.event_calls import EventCalls
from sockd.worker.hot_path.message_events import MessageEvents
from sockd.worker.hot_path.plain_events import PlainEvents


class AppServer(socketio.AsyncServer):
    """An app's server that sees every event (as a MODULE:ATTR app may bring)."""

    seen: list[str]

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        self.seen.append(event)
        return await super()._trigger_event(event, namespace, *args)


class AppEngine(engineio.AsyncServer):
    seen: list[str]

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(event)
        return await super()._trigger_event(event, *args, **kwargs)


def test_only_a_class_of_the_apps_counts() -> None:
    class Composed(EventCalls, PlainEvents, socketio.AsyncServer):
        pass

    class ComposedOnTheApp(EventCalls, AppServer):
        pass

    assert not app_overrides(Composed, ("_trigger_event", "_handle_eio_message"))
    assert app_overrides(ComposedOnTheApp, ("_trigger_event",))
    assert not app_overrides(ComposedOnTheApp, ("_handle_eio_message",))


def test_an_apps_override_of_the_socketio_event_call_is_still_called() -> None:
    class Composed(EventCalls, AppServer):
        pass

    server = Composed()
    server.seen = []

    @server.on("echo")
    async def echo(sid: str, data: Any) -> Any:
        return data

    assert asyncio.run(server._trigger_event("echo", "/", "sid", 7)) == 7
    assert server.seen == ["echo"]


def test_an_apps_override_of_the_engineio_event_call_is_still_called() -> None:
    class Composed(MessageEvents, AppEngine):
        pass

    server = Composed(async_handlers=False)
    server.seen = []
    got: list[Any] = []

    @server.on("message")
    async def message(sid: str, data: Any) -> None:
        got.append(data)

    asyncio.run(server._trigger_event("message", "sid", "hello", run_async=False))
    assert got == ["hello"] and server.seen == ["message"]
