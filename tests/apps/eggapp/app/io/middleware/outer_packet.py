"""Packet middleware that notes when it runs, before and after ``next()``."""

from app.io.middleware._trace import record


def middleware(app, options):
    async def outer_packet(ctx, next):
        record(ctx, "outer_packet:before")
        await next()
        record(ctx, "outer_packet:after")

    return outer_packet
