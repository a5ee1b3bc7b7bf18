"""The middleware onion (koa-compose): each ``async def (ctx, next)`` wraps the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sockd.worker.app_model.context import Context

Next = Callable[[], Awaitable[Any]]
Middleware = Callable[[Context, Next], Awaitable[Any]]


async def run_onion(
    middlewares: Sequence[Middleware], ctx: Context, innermost: Callable[[], Awaitable[Any]]
) -> Any:
    """Run ``middlewares`` around ``innermost``; returns what the outermost returns.

    A middleware that does not call ``next()`` stops the chain there.
    """

    async def dispatch(index: int) -> Any:
        if index == len(middlewares):
            return await innermost()
        called = False

        async def next_() -> Any:
            nonlocal called
            if called:
                raise RuntimeError(f"next() called twice in middleware #{index + 1}")
            called = True
            return await dispatch(index + 1)

        return await middlewares[index](ctx, next_)

    return await dispatch(0)
