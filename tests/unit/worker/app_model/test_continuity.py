"""The app model with recovery and skip_middlewares: a recovered socket is one connection.

A loss runs no hooks and keeps the connection; a recovery on the same worker gets it back
(its state, its middleware still waiting) without running the middleware; the hooks run
once, when the session ends for good; a session that went on elsewhere keeps its
middleware waiting where it started until it ends. In-process, on the recovering manager
with a store that records (tests/unit/worker/recovery/inprocess.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sockd.worker.app_model.application import Application
from sockd.worker.app_model.loader import ControllerGroup
from sockd.worker.app_model.router import IO
from sockd.worker.app_model.runtime import NamespaceRuntime
from sockd.worker.app_model.session import SessionReader
from sockd.worker.recovery.store import Restored
from tests.unit.worker.recovery.inprocess import PID, Harness, run, until


class Chat:
    """The app model on a recovering server: what ran, and when."""

    def __init__(self) -> None:
        self.h = Harness()
        self.log: list[str] = []
        io = IO(ControllerGroup("app/io/controller", {}), self.h.sio)
        app = Application(Path("."), "unittest", None, io)  # type: ignore[arg-type]

        async def auth(ctx: Any, next: Any) -> None:
            ctx.state["name"] = "ada"
            self.log.append("middleware")
            await next()
            self.log.append("unwound")

        async def leaving(ctx: Any) -> None:
            self.log.append(f"{ctx.event} {ctx.args[0]} {ctx.state['name']} {ctx.socket.rooms}")

        async def recovered(ctx: Any) -> dict[str, Any]:
            return {"recovered": ctx.socket.recovered, "state": ctx.state}

        self.runtime = NamespaceRuntime(
            app, "/", connection_middleware=[auth], packet_middleware=[],
            routes={"disconnecting": leaving, "disconnect": leaving, "how": recovered},
            sessions=SessionReader("secret", "session", 60),
        )  # fmt: skip
        self.runtime.bind(self.h.sio)

    async def connect(self, claim: str = "") -> tuple[Any, str]:
        ws, frames = await self.h.connect(claim)
        return ws, json.loads(frames[-1][2:])["sid"]


def test_a_loss_and_a_recovery_here_are_one_connection_whose_hooks_run_once() -> None:
    async def scenario() -> None:
        chat = Chat()
        ws, sid = await chat.connect()
        opened = chat.h.store.notes[0]
        assert opened[0] == "opened" and opened[5] == {"name": "ada"}, "ctx.state is saved"
        await ws.close()
        await until(lambda: ("lost", opened[1], "transport close") in chat.h.store.notes)
        assert chat.log == ["middleware"], "no hooks at a loss"
        chat.h.store.answer = (Restored(sid, [sid, "room"], {"name": "ada"}), [])
        ws, again = await chat.connect(json.dumps({"pid": PID}))
        assert again == sid and chat.log == ["middleware"], "no middleware at a recovery"
        ws.send('421["how"]')
        answer = await ws.receive()
        assert answer == '431[{"recovered":true,"state":{"name":"ada"}}]'
        await ws.close()
        await until(lambda: chat.h.store.notes[-1][0] == "lost")
        chat.h.manager.session_ended(
            {"namespace": "/", "sid": sid, "reason": "ping timeout", "rooms": [sid, "room"],
             "data": {"name": "ada"}, "hooks": True}
        )  # fmt: skip
        await until(lambda: chat.log[-1] == "unwound")
        assert chat.log == [
            "middleware",
            f"disconnecting ping timeout ada ['{sid}', 'room']",
            f"disconnect ping timeout ada ['{sid}', 'room']",
            "unwound",
        ]

    run(scenario)


def test_a_session_that_moved_away_unwinds_where_it_started_without_hooks() -> None:
    async def scenario() -> None:
        chat = Chat()
        ws, sid = await chat.connect()
        await ws.close()
        await until(lambda: chat.h.store.notes[-1][0] == "lost")
        chat.h.manager.moved("/", sid)  # restored on another worker
        chat.h.manager.session_ended(
            {"namespace": "/", "sid": sid, "rooms": [], "data": None, "hooks": False}
        )
        await until(lambda: chat.log[-1] == "unwound")
        assert chat.log == ["middleware", "unwound"]

    run(scenario)


def test_an_expiry_where_nothing_is_held_runs_the_hooks_from_the_stores_record() -> None:
    async def scenario() -> None:
        chat = Chat()
        chat.h.manager.session_ended(
            {"namespace": "/", "sid": "gone", "reason": "transport close", "rooms": ["gone", "r"],
             "data": {"name": "bob"}, "hooks": True}
        )  # fmt: skip
        await until(lambda: len(chat.log) == 2)
        assert chat.log == [
            "disconnecting transport close bob ['gone', 'r']",
            "disconnect transport close bob ['gone', 'r']",
        ]

    run(scenario)
