"""Plain function controllers, including the routed system events."""

from app.io.middleware._trace import TRACE, record

#: socket id -> the reason its disconnect controller was given, per worker process.
REASONS: dict[str, object] = {}


async def add(ctx):
    return sum(ctx.args)


async def trace(ctx):
    """The trace of another socket on this worker (for disconnect order)."""
    return TRACE.get(ctx.args[0], [])


async def config_value(ctx):
    return {
        "ping_interval": ctx.app.config.io.init.ping_interval,
        "env": ctx.app.env,
        "label": ctx.app.config.io.middleware.get("gate", {}).get("label"),
    }


async def on_disconnecting(ctx):
    record(ctx, f"controller rooms={len(ctx.socket.rooms)}")


async def on_disconnect(ctx):
    record(ctx, "controller")
    REASONS[ctx.socket.id] = ctx.args[0]


async def reason(ctx):
    """Why another socket of this worker left, as its disconnect controller heard."""
    return REASONS.get(ctx.args[0])


async def kick(ctx):
    """The server ends this socket's namespace connection."""
    await ctx.socket.disconnect()


async def on_error(ctx):
    record(ctx, f"error controller: {ctx.args[0]}")
