"""Control requests are checked before they reach the lifecycle."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest

from sockd.supervisor.lifecycle.control_handlers import ControlHandlers


class Lifecycle:
    def __init__(self) -> None:
        self.reloads: list[int | None] = []
        self.stops: list[float | None] = []
        self.stopping = False

    def status(self) -> dict[str, Any]:
        return {"workers": []}

    async def reload(self, workers: int | None) -> dict[str, Any]:
        self.reloads.append(workers)
        return {"ok": True, "generation": 1, "workers": workers or 2}

    def stop(self, timeout: float | None) -> float:
        self.stops.append(timeout)
        return 30.0 if timeout is None else timeout


def ask(request: dict[str, Any], lifecycle: Lifecycle | None = None) -> dict[str, Any]:
    lifecycle = lifecycle or Lifecycle()
    handlers = ControlHandlers(
        lifecycle.status, lifecycle.reload, lifecycle.stop, lambda: lifecycle.stopping
    )
    return asyncio.run(handlers.handle(request))


def test_status_reload_and_stop_reach_the_lifecycle() -> None:
    lifecycle = Lifecycle()
    assert ask({"command": "status"}, lifecycle) == {"ok": True, "status": {"workers": []}}
    assert ask({"command": "reload", "workers": 3}, lifecycle)["workers"] == 3
    assert ask({"command": "stop", "timeout": 2}, lifecycle) == {
        "ok": True,
        "pid": os.getpid(),
        "graceful_timeout": 2.0,
    }
    assert lifecycle.reloads == [3] and lifecycle.stops == [2.0]


@pytest.mark.parametrize("workers", [0, 1025, "4", 2.0, True])
def test_a_bad_worker_count_is_refused(workers: Any) -> None:
    lifecycle = Lifecycle()
    reply = ask({"command": "reload", "workers": workers}, lifecycle)
    assert reply == {"ok": False, "error": "workers must be 1 to 1024"}
    assert lifecycle.reloads == []


@pytest.mark.parametrize("timeout", [-1, "5", None])
def test_a_stop_timeout_must_be_a_number_of_seconds(timeout: Any) -> None:
    lifecycle = Lifecycle()
    reply = ask({"command": "stop", "timeout": timeout}, lifecycle)
    if timeout is None:
        assert reply["ok"] and reply["graceful_timeout"] == 30.0
    else:
        assert reply == {"ok": False, "error": "timeout must be a number of seconds >= 0"}
        assert lifecycle.stops == []


def test_a_stopping_master_refuses_reload_and_stop_but_shows_status() -> None:
    lifecycle = Lifecycle()
    lifecycle.stopping = True
    assert ask({"command": "reload"}, lifecycle) == {"ok": False, "error": "sockd is stopping"}
    assert ask({"command": "stop"}, lifecycle) == {"ok": False, "error": "sockd is stopping"}
    assert ask({"command": "status"}, lifecycle)["ok"]


def test_an_unknown_command_is_named() -> None:
    assert ask({"command": "explode"}) == {"ok": False, "error": "unknown command 'explode'"}
    assert ask({}) == {"ok": False, "error": "unknown command None"}
