"""A client event's handler called from the table directly, as python-socketio calls it."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from sockd.worker.hot_path.event_calls import EventCalls


class Server(EventCalls, socketio.AsyncServer):
    pass


def trigger(server: socketio.AsyncServer, event: str, namespace: str, *args: Any) -> Any:
    return asyncio.run(server._trigger_event(event, namespace, *args))


def both(register: Any, event: str, namespace: str, *args: Any) -> tuple[Any, Any]:
    """What the library and :class:`EventCalls` return for the same handlers and call."""
    results = []
    for server in (socketio.AsyncServer(), Server()):
        register(server)
        results.append(trigger(server, event, namespace, *args))
    return results[0], results[1]


def test_coroutine_and_plain_handlers_and_catch_alls_give_the_library_results() -> None:
    def register(server: socketio.AsyncServer) -> None:
        @server.on("echo")
        async def echo(sid: str, data: Any) -> Any:
            return data

        server.on("plain", lambda sid, data: ("plain", data))

        @server.on("*", namespace="/chat")
        async def any_event(event: str, sid: str, data: Any) -> Any:
            return (event, data)

        @server.on("*", namespace="*")
        def anywhere(event: str, namespace: str, sid: str, *data: Any) -> Any:
            return (event, namespace, *data)

    assert both(register, "echo", "/", "sid", 1) == (1, 1)
    assert both(register, "plain", "/", "sid", 2) == (("plain", 2),) * 2
    assert both(register, "x", "/chat", "sid", 3) == (("x", 3),) * 2
    assert both(register, "y", "/other", "sid", 4) == (("y", "/other", 4),) * 2
    assert both(register, "none", "/", "sid") == (("none", "/"),) * 2


def test_an_event_without_a_handler_is_not_handled_as_in_the_library() -> None:
    server = Server()
    assert trigger(server, "none", "/", "sid") is server.not_handled


def test_a_cancelled_handler_has_no_result() -> None:
    server = Server()

    @server.on("stop")
    async def stop(sid: str) -> str:
        raise asyncio.CancelledError()

    assert trigger(server, "stop", "/", "sid") is None


def test_connects_disconnects_and_namespace_classes_take_the_library_path() -> None:
    server = Server()
    calls: list[str] = []
    library = socketio.AsyncServer._trigger_event

    async def spy(self: Any, event: str, namespace: str, *args: Any) -> Any:
        calls.append(event)
        return await library(self, event, namespace, *args)

    class Chat(socketio.AsyncNamespace):
        async def on_hello(self, sid: str) -> str:
            return "hi"

    server.register_namespace(Chat("/chat"))
    socketio.AsyncServer._trigger_event = spy  # type: ignore[method-assign]
    try:
        trigger(server, "connect", "/", "sid", {})
        trigger(server, "disconnect", "/", "sid", "reason")
        assert trigger(server, "hello", "/chat", "sid") == "hi"
    finally:
        socketio.AsyncServer._trigger_event = library  # type: ignore[method-assign]
    assert calls == ["connect", "disconnect", "hello"]
