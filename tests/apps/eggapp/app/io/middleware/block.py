"""Packet middleware that stops some packets before their controller."""


def middleware(app, options):
    async def block(ctx, next):
        if ctx.event == "blocked":
            return
        if ctx.event == "explode":
            raise RuntimeError("packet middleware exploded")
        await next()

    return block
