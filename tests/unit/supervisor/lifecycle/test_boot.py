"""Readiness is announced once every slot is ready: to the log, systemd and a waiting
``sockd start --daemon``; a master replacing another takes over first."""

from __future__ import annotations

import asyncio
import os
import socket

from sockd.supervisor.lifecycle.boot import BootAnnouncer
from sockd.supervisor.system.handover import HandoverLink


class Host:
    def __init__(self) -> None:
        self.did: list[str] = []

    async def claim_title(self) -> None:
        self.did.append("claim")

    def start_accepting(self) -> None:
        self.did.append("accept")


def test_a_fresh_master_announces_at_once() -> None:
    async def scenario() -> None:
        told: list[str] = []
        systemd: list[int | None] = []
        boot = BootAnnouncer(
            "chat", ["127.0.0.1:7001"], lambda: 2, systemd.append, told.append, told.append,
            None, Host(),
        )  # fmt: skip
        boot.booted()
        assert systemd == [None]
        assert told == [
            f"sockd 'chat' serving on 127.0.0.1:7001 with 2 worker(s) (master pid {os.getpid()})"
        ]

    asyncio.run(scenario())


def test_a_new_master_takes_over_then_names_itself_main() -> None:
    async def scenario() -> None:
        ours, theirs = socket.socketpair()
        old = HandoverLink(theirs)
        host, systemd, fatal = Host(), [], []  # type: ignore[var-annotated]
        boot = BootAnnouncer(
            "chat", ["127.0.0.1:7001"], lambda: 1, systemd.append, fatal.append, None,
            (HandoverLink(ours), 4321), host,
        )  # fmt: skip
        boot.booted()
        said = await old.receive(1.0)
        assert said is not None and said["event"] == "ready" and systemd == []
        await old.send({"event": "released"})
        assert await old.receive(1.0) == {"event": "serving"}
        await asyncio.sleep(0)
        assert host.did == ["claim", "accept"]
        assert systemd == [os.getpid()] and fatal == []
        old.close()

    asyncio.run(scenario())
