"""Connection middleware: a client must say who it is (``auth: {name}``) to connect."""

from __future__ import annotations

from typing import Any

from sockd.app import ConnectionRejected


def middleware(app: Any, options: dict[str, Any]):
    max_length = int(options.get("max_name_length", 32))

    async def auth(ctx, next):
        name = (ctx.auth or {}).get("name") or ctx.session.get("name")
        if not name or len(name) > max_length:
            raise ConnectionRejected("a name is required", {"max_name_length": max_length})
        ctx.state["name"] = name
        await next()  # the connection lives here; what follows runs at disconnect
        for room in ctx.state.get("rooms", ()):
            await ctx.socket.to(room).emit("system", f"{name} left")

    return auth
