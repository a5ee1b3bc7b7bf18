"""``app.io.of(ns)`` cluster-wide, and ``ctx.socket.data``, on one in-process server (a
cluster of one; tests/e2e/test_app_model_cluster.py runs them across workers)."""

from __future__ import annotations

import asyncio
from typing import Any

from sockd.app import Context
from tests.unit.worker.app_model.inprocess import AppModel


async def named(ctx: Context) -> str:
    ctx.socket.data["name"] = ctx.args[0]
    await ctx.socket.join(ctx.args[1])
    return ctx.socket.id


async def members(ctx: Context) -> list[Any]:
    sockets = await ctx.app.io.of("/").in_(ctx.args[0]).fetch_sockets()
    return sorted(socket.data["name"] for socket in sockets)


async def promote(ctx: Context) -> int:
    applied = await ctx.app.io.of("/").in_(ctx.args[0]).sockets_join("vip")
    return applied.count


async def shout(ctx: Context) -> None:
    await ctx.app.io.of("/").to("lobby").except_("muted").emit("news", ctx.args[0])


async def kick(ctx: Context) -> int:
    return (await ctx.app.io.of("/").in_(ctx.args[0]).disconnect_sockets()).count


ROUTES = {"named": named, "members": members, "promote": promote, "shout": shout, "kick": kick}


def test_the_namespace_finds_moves_tells_and_disconnects_its_sockets() -> None:
    async def scenario() -> None:
        model = AppModel()
        model.namespace("/", routes=ROUTES)
        ada, bob, eve = model.client(), model.client(), model.client()
        for client, name, room in (
            (ada, "ada", "lobby"),
            (bob, "bob", "lobby"),
            (eve, "eve", "muted"),
        ):
            await client.connect()
            await client.call("named", name, room)
        assert await ada.call("members", "lobby") == [["ada", "bob"]]
        assert await eve.call("promote", "lobby") == [2]
        assert await eve.call("members", "vip") == [["ada", "bob"]]
        await model.server.enter_room(await _sid(model, eve), "lobby")
        assert await eve.call("shout", {"n": 1}) == [], "eve, muted, gets only her ack"
        assert (await bob.next_packet()).data == ["news", {"n": 1}]
        assert (await ada.next_packet()).data == ["news", {"n": 1}]
        assert await eve.call("kick", "vip") == [2]
        assert len(model.server.manager.rooms["/"][None]) == 1

    asyncio.run(scenario())


async def _sid(model: AppModel, client: Any) -> str:
    [(sid, _)] = [
        (sid, eio)
        for sid, eio in model.server.manager.get_participants("/", None)
        if eio == client.sid
    ]
    return sid


def test_socket_data_is_what_save_session_holds() -> None:
    async def scenario() -> None:
        seen: list[Any] = []

        async def look(ctx: Context) -> None:
            seen.append(dict(ctx.socket.data))
            ctx.socket.data = {"fresh": True}
            seen.append(await ctx.app.io.server.get_session(ctx.socket.id))

        model = AppModel()
        model.namespace("/", routes={"look": look})
        client = model.client()
        await client.connect()
        sid = await _sid(model, client)
        await model.server.save_session(sid, {"saved": 1})
        await client.call("look")
        assert seen == [{"saved": 1}, {"fresh": True}]

    asyncio.run(scenario())
