"""Controllers: a ``Controller`` subclass (``self.ctx``) or plain ``async def handler(ctx)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sockd.worker.app_model.context import Context

Handler = Callable[[Context], Awaitable[Any]]


class Controller:
    """Base class of class controllers: one instance per packet, with ``self.ctx``.

    Each public ``async def`` method is a handler; ``app.io.controller.<file>.<method>``
    names it in the router, and its return value is the ack.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.app = ctx.app


def method_handler(cls: type[Controller], name: str) -> Handler:
    """A handler that runs ``cls(ctx).<name>()``."""

    async def handler(ctx: Context) -> Any:
        return await getattr(cls(ctx), name)()

    handler.__qualname__ = f"{cls.__qualname__}.{name}"
    return handler
