"""Publish bus messages in call order, many per round trip under load.

One ``PUBLISH`` at a time keeps the order (python-socketio's Redis manager sends them
concurrently over a connection pool, so they reached other workers out of order), but
then each message waits for the round trips of all before it: under a chat-like load
(``python -m bench --scenarios rooms``) publishes queued for seconds and broadcasts
arrived after their clients had given up. Here the messages that queue up while one
batch is on its way go out together as the next batch, in one pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class PublishBatches:
    """``publish`` returns once the batch holding the message was sent (or given up on)."""

    def __init__(self, send_batch: Callable[[list[str]], Awaitable[None]]) -> None:
        self._send_batch = send_batch
        self._queued: list[str] = []
        self._queued_sent: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, message: str) -> None:
        self._queued.append(message)
        if self._queued_sent is None:
            self._queued_sent = asyncio.get_running_loop().create_future()
        sent = self._queued_sent
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_queued())
        # Shielded: a caller cancelled meanwhile does not stop the others' batch.
        await asyncio.shield(sent)

    async def _send_queued(self) -> None:
        while self._queued:
            batch, sent = self._queued, self._queued_sent
            self._queued, self._queued_sent = [], None
            try:
                await self._send_batch(batch)
            except Exception:
                log.exception("publishing %d bus messages failed", len(batch))
            finally:
                if sent is not None and not sent.done():
                    sent.set_result(None)
