"""Connection middleware that notes when it runs, before and after ``next()``."""

from app.io.middleware._trace import record


def middleware(app, options):
    async def inner(ctx, next):
        record(ctx, "inner:before")
        await next()
        record(ctx, "inner:after")

    return inner
