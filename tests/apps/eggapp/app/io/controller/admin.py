"""Controllers of other namespaces."""


async def hello(ctx):
    return f"hello from {ctx.socket.namespace}"


async def broken_disconnect(ctx):
    raise RuntimeError("disconnect controller failed on purpose")
