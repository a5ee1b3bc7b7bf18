"""SIGUSR2's handover, new master's side, with the old master played by the test."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sockd.errors import StartupError
from sockd.supervisor.lifecycle.takeover import take_over
from sockd.supervisor.system.handover import HandoverLink


class Host:
    def __init__(self, claim_error: StartupError | None = None) -> None:
        self.did: list[str] = []
        self._claim_error = claim_error

    async def claim_title(self) -> None:
        if self._claim_error is not None:
            raise self._claim_error
        self.did.append("claim")

    def start_accepting(self) -> None:
        self.did.append("accept")


def links() -> tuple[HandoverLink, HandoverLink]:
    new, old = socket.socketpair()
    return HandoverLink(new), HandoverLink(old)


def test_ready_released_serving() -> None:
    async def scenario() -> None:
        new, old = links()
        host = Host()
        task = asyncio.create_task(take_over(new, 1234, host))
        said = await old.receive(1.0)
        assert said is not None and said["event"] == "ready"
        assert host.did == [], "the title is the old master's until it releases it"
        await old.send({"event": "released"})
        assert await old.receive(1.0) == {"event": "serving"}
        await task
        assert host.did == ["claim", "accept"]
        old.close()

    asyncio.run(scenario())


def test_an_old_master_that_is_gone_has_released_everything() -> None:
    async def scenario() -> None:
        new, old = links()
        host = Host()
        task = asyncio.create_task(take_over(new, 1234, host))
        await old.receive(1.0)
        old.close()
        await task
        assert host.did == ["claim", "accept"]

    asyncio.run(scenario())


def test_a_title_that_cannot_be_claimed_is_told_to_the_old_master() -> None:
    async def scenario() -> None:
        new, old = links()
        host = Host(StartupError("a sockd titled 'x' is already running (pid 9)"))
        task = asyncio.create_task(take_over(new, 1234, host))
        await old.receive(1.0)
        await old.send({"event": "released"})
        with pytest.raises(StartupError, match="already running"):
            await task
        said = await old.receive(1.0)
        assert said == {"event": "failed", "error": "a sockd titled 'x' is already running (pid 9)"}
        assert host.did == []
        old.close()

    asyncio.run(scenario())


def test_an_old_master_saying_something_else_is_an_error() -> None:
    async def scenario() -> None:
        new, old = links()
        task = asyncio.create_task(take_over(new, 1234, Host()))
        await old.receive(1.0)
        await old.send({"event": "nonsense"})
        with pytest.raises(StartupError, match="instead of releasing"):
            await task
        old.close()

    asyncio.run(scenario())
