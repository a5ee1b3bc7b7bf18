"""A coroutine message handler awaited directly, its outcome handled as the library does."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio
import pytest

from sockd.worker.hot_path.message_events import MessageEvents


class Server(MessageEvents, engineio.AsyncServer):
    def __init__(self) -> None:
        super().__init__(async_mode="asgi")
        self.library: list[str] = []

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event != "message" or kwargs.get("run_async"):
            self.library.append(event)
        return await super()._trigger_event(event, *args, **kwargs)


def trigger(server: Server, event: str, *args: Any, **kwargs: Any) -> Any:
    return asyncio.run(server._trigger_event(event, *args, **kwargs))


def test_a_message_reaches_its_coroutine_handler_and_its_result_comes_back() -> None:
    server = Server()

    @server.on("message")
    async def message(sid: str, data: Any) -> Any:
        return (sid, data)

    assert trigger(server, "message", "sid", "4x", run_async=False) == ("sid", "4x")
    assert server.library == []


def test_an_exception_is_logged_and_a_cancellation_ends_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = Server()
    outcomes = [ValueError("bad"), asyncio.CancelledError()]

    @server.on("message")
    async def message(sid: str, data: Any) -> None:
        raise outcomes.pop(0)

    with caplog.at_level(logging.ERROR, logger=server.logger.name):
        assert trigger(server, "message", "sid", "a", run_async=False) is None
        assert trigger(server, "message", "sid", "b", run_async=False) is None
    assert [r.getMessage() for r in caplog.records] == ["message async handler error"]


def test_other_events_plain_handlers_and_async_handlers_take_the_library_path() -> None:
    server = Server()
    seen: list[str] = []
    server.on("message", lambda sid, data: seen.append(data))
    trigger(server, "message", "sid", "plain", run_async=False)

    async def message(sid: str, data: Any) -> None:
        seen.append(data)

    server.on("message", message)
    trigger(server, "connect", "sid", {})
    trigger(server, "message", "sid", "in a task", run_async=True)
    assert server.library == ["connect", "message"]
    assert "plain" in seen
