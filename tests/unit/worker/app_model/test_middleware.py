"""The onion itself (koa-compose): order in and out, stopping, the value, errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sockd.worker.app_model.context import Context
from sockd.worker.app_model.middleware import Middleware, Next, run_onion

CTX: Any = object()  # the onion only passes the context on


def layer(name: str, journal: list[str], *, calls_next: bool = True) -> Middleware:
    async def middleware(ctx: Context, next: Next) -> Any:
        assert ctx is CTX
        journal.append(f"{name} in")
        if not calls_next:
            return f"{name} stopped"
        try:
            result = await next()
        finally:
            journal.append(f"{name} out")
        return f"{name}({result})"

    return middleware


def run(middlewares: list[Middleware], journal: list[str]) -> Any:
    async def innermost() -> str:
        journal.append("core")
        return "core"

    return asyncio.run(run_onion(middlewares, CTX, innermost))


def test_layers_run_in_order_around_the_core_and_unwind_in_reverse() -> None:
    journal: list[str] = []
    result = run([layer("a", journal), layer("b", journal), layer("c", journal)], journal)
    assert journal == ["a in", "b in", "c in", "core", "c out", "b out", "a out"]
    assert result == "a(b(c(core)))", "each layer gets what the next returned"


def test_no_middleware_runs_the_core_alone() -> None:
    journal: list[str] = []
    assert run([], journal) == "core"
    assert journal == ["core"]


def test_a_layer_that_does_not_call_next_stops_there() -> None:
    journal: list[str] = []
    result = run([layer("a", journal), layer("b", journal, calls_next=False)], journal)
    assert journal == ["a in", "b in", "a out"]
    assert result == "a(b stopped)"


def test_an_error_unwinds_through_the_outer_layers() -> None:
    journal: list[str] = []

    async def failing(ctx: Context, next: Next) -> None:
        raise ValueError("inner failure")

    with pytest.raises(ValueError, match="inner failure"):
        run([layer("a", journal), failing, layer("never", journal)], journal)
    assert journal == ["a in", "a out"]


def test_calling_next_twice_is_an_error_naming_the_layer() -> None:
    async def twice(ctx: Context, next: Next) -> None:
        await next()
        await next()

    journal: list[str] = []
    with pytest.raises(RuntimeError, match=r"next\(\) called twice in middleware #2"):
        run([layer("a", journal), twice], journal)
    assert journal.count("core") == 1
