"""Connection middleware that notes when it runs, before and after ``next()``."""

from app.io.middleware._trace import record


def middleware(app, options):
    async def outer(ctx, next):
        record(ctx, "outer:before")
        await next()
        record(ctx, "outer:after")

    return outer
