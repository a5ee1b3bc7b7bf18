"""Packet middleware that notes when it runs, before and after ``next()``."""

from app.io.middleware._trace import record


def middleware(app, options):
    async def inner_packet(ctx, next):
        record(ctx, "inner_packet:before")
        await next()
        record(ctx, "inner_packet:after")

    return inner_packet
