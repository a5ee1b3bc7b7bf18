"""Connection middleware that refuses clients as their ``auth`` asks, to test rejection."""

from sockd.app import ConnectionRejected


def middleware(app, options):
    code = options["code"]

    async def gate(ctx, next):
        deny = (ctx.auth or {}).get("deny")
        if deny == "raise":
            raise ConnectionRejected("denied by gate", {"code": code})
        if deny == "silent":
            return  # no next(): refused
        if deny == "crash":
            raise RuntimeError("gate crashed")
        await next()

    return gate
