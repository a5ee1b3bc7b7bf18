"""SIGUSR2's handover, old master's side, with the new master played by the test over
the real socketpair: the title passes only once the new master is ready, and a new
master that fails leaves the old one serving."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from typing import Any

from sockd.supervisor.lifecycle.upgrade import MasterCommand, Upgrader
from sockd.supervisor.system.handover import HANDOVER_VARIABLE, HandoverLink
from sockd.supervisor.system.listeners import Listeners


class Host:
    def __init__(self, listener: socket.socket) -> None:
        self._listeners = Listeners([listener], owned_paths=["/run/x.sock"])
        self.did: list[str] = []
        self.titled = True

    def listeners(self) -> Listeners:
        return self._listeners

    def holds_title(self) -> bool:
        return self.titled

    def pause_accepting(self) -> None:
        self.did.append("pause")

    def resume_accepting(self) -> None:
        self.did.append("resume")

    async def release_title(self) -> None:
        self.did.append("release")

    async def reclaim_title(self) -> None:
        self.did.append("reclaim")

    def handed_over(self, pid: int) -> None:
        self.did.append(f"handed over to {pid}")


class NewMaster:
    """Stands in for subprocess.Popen: keeps what it was started with, and its link."""

    pid = 4242

    def __init__(self, argv: list[str], **kwargs: Any) -> None:
        self.argv = argv
        self.kwargs = kwargs
        self.returncode: int | None = None
        self.terminated = False
        inheritance = json.loads(kwargs["env"][HANDOVER_VARIABLE])
        assert inheritance["link"] in kwargs["pass_fds"]
        self.inheritance = inheritance
        self.link = HandoverLink(socket.socket(fileno=os.dup(inheritance["link"])))

    def terminate(self) -> None:
        self.terminated = True


class Started:
    def __init__(self) -> None:
        self.masters: list[NewMaster] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> NewMaster:
        self.masters.append(NewMaster(argv, **kwargs))
        return self.masters[-1]


COMMAND = MasterCommand(["/venv/bin/python", "/venv/bin/sockd", "start"], "/srv", {"A": "1"})


async def started(host: Host) -> tuple[Upgrader, NewMaster]:
    spawn = Started()
    upgrader = Upgrader(host, COMMAND, spawn)  # type: ignore[arg-type]
    upgrader.start()
    for _ in range(5):
        await asyncio.sleep(0)
    (master,) = spawn.masters
    return upgrader, master


def test_the_new_master_starts_as_this_one_did_with_the_listeners_inherited() -> None:
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            upgrader, master = await started(Host(listener))
            assert master.argv == COMMAND.argv and master.kwargs["cwd"] == "/srv"
            env = master.kwargs["env"]
            assert env["A"] == "1"
            assert master.inheritance["parent"] == os.getpid()
            assert master.inheritance["listeners"] == [listener.fileno()]
            assert master.inheritance["owned_paths"] == ["/run/x.sock"]
            assert listener.fileno() in master.kwargs["pass_fds"]
            upgrader.cancel()
            master.link.close()

    asyncio.run(scenario())


def test_the_title_passes_once_the_new_master_is_ready_and_it_takes_over() -> None:
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            host = Host(listener)
            upgrader, master = await started(host)
            assert host.did == [], "nothing changes before the new master is ready"
            await master.link.send({"event": "ready", "pid": master.pid})
            assert await master.link.receive(1.0) == {"event": "released"}
            assert host.did == ["pause", "release"]
            await master.link.send({"event": "serving"})
            await asyncio.wait_for(upgrader._task, 1.0)  # type: ignore[arg-type]
            assert host.did == ["pause", "release", "handed over to 4242"]
            upgrader.cancel()
            assert not master.terminated, "a master that took over is not stopped"
            master.link.close()

    asyncio.run(scenario())


def test_a_new_master_that_fails_to_start_leaves_this_one_serving() -> None:
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            host = Host(listener)
            upgrader, master = await started(host)
            await master.link.send({"event": "failed", "error": "ImportError: broken app"})
            await asyncio.wait_for(upgrader._task, 1.0)  # type: ignore[arg-type]
            assert host.did == []
            assert master.terminated
            assert upgrader.child_exited(master.pid, 3 << 8)
            assert not upgrader.child_exited(master.pid + 1, 0)
            master.link.close()

    asyncio.run(scenario())


def test_a_new_master_that_dies_before_taking_over_gives_the_title_back() -> None:
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            host = Host(listener)
            upgrader, master = await started(host)
            await master.link.send({"event": "ready", "pid": master.pid})
            assert await master.link.receive(1.0) == {"event": "released"}
            master.link.close()  # gone
            await asyncio.wait_for(upgrader._task, 1.0)  # type: ignore[arg-type]
            assert host.did == ["pause", "release", "reclaim", "resume"]

    asyncio.run(scenario())


def test_a_master_still_taking_over_does_not_start_another() -> None:
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            spawn, host = Started(), Host(listener)
            host.titled = False
            Upgrader(host, COMMAND, spawn).start()  # type: ignore[arg-type]
            await asyncio.sleep(0)
            assert spawn.masters == []

    asyncio.run(scenario())


def test_a_second_sigusr2_while_one_runs_is_ignored() -> None:
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            spawn = Started()
            upgrader = Upgrader(Host(listener), COMMAND, spawn)  # type: ignore[arg-type]
            upgrader.start()
            await asyncio.sleep(0)
            upgrader.start()
            await asyncio.sleep(0)
            assert len(spawn.masters) == 1
            upgrader.cancel()
            assert spawn.masters[0].terminated, "a stop takes the starting new master along"
            spawn.masters[0].link.close()

    asyncio.run(scenario())
