"""Controllers that use ``app.io.of("/")`` cluster-wide and ``ctx.socket.data``."""

import os


async def join(ctx):
    name, room = ctx.args
    ctx.socket.data["name"] = name
    await ctx.socket.join(room)
    return {"pid": os.getpid()}


async def members(ctx):
    sockets = await ctx.app.io.of("/").in_(ctx.args[0]).fetch_sockets()
    return {
        "names": sorted(socket.data["name"] for socket in sockets),
        "pids": sorted({socket.member.pid for socket in sockets}),
        "complete": sockets.complete,
    }


async def shout(ctx):
    room, muted, text = ctx.args
    await ctx.app.io.of("/").to(room).except_(muted).emit("news", text)
    return True


async def promote(ctx):
    applied = await ctx.app.io.of("/").in_(ctx.args[0]).sockets_join(ctx.args[1])
    return applied.count


async def kick(ctx):
    applied = await ctx.app.io.of("/").in_(ctx.args[0]).disconnect_sockets(close=True)
    return applied.count


async def greet_others(ctx):
    replies = await ctx.app.io.of("/").server_side_emit("greet", ctx.args[0])
    return [reply.value for reply in replies]
