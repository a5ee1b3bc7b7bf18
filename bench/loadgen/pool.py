"""Opening many WebSocket sessions at once, a bounded number at a time."""

from __future__ import annotations

import asyncio

from bench.loadgen.addresses import source_address
from bench.loadgen.ws_session import EventHandler, WsSession


async def open_sessions(
    port: int,
    count: int,
    *,
    first_index: int = 0,
    concurrency: int = 64,
    offer_deflate: bool = True,
    on_event: EventHandler | None = None,
    timeout: float = 15.0,
) -> tuple[list[WsSession], list[BaseException]]:
    """Open ``count`` sessions from consecutive source addresses; return (opened, errors)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> WsSession:
        async with gate:
            return await WsSession.open(
                port,
                source_address(first_index + index),
                offer_deflate=offer_deflate,
                on_event=on_event,
                timeout=timeout,
            )

    results = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
    sessions = [r for r in results if isinstance(r, WsSession)]
    errors = [r for r in results if isinstance(r, BaseException)]
    return sessions, errors
