"""The Redis bus over pub/sub, on python-socketio's channel and in its message format.

For a cluster shared with plain python-socketio servers (``AsyncRedisManager`` on the same
channel): they read sockd's broadcasts (the library's ``emit`` fields are kept beside the
encoded packet, encoded_broadcast.py) and sockd reads theirs. Each message also names its
publisher and number (``sockd_pub``, ``sockd_seq``; other servers ignore them) so sockd
readers drop a resend and count what they missed.

Pub/sub is at-most-once: Redis hands a message to the subscribers connected at that instant.
So after an outage this worker publishes again only once it has subscribed again (its
queue waits for that), and then waits one reconnect interval more, by which time the other
workers, retrying as often, have subscribed again too. A message published while another
worker was still resubscribing is lost for that worker, which counts it (``missed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from sockd.config.io import RedisSettings
from sockd.worker.bus.backoff import MAX_DELAY, EmptyReads
from sockd.worker.bus.outbound_queue import Outgoing
from sockd.worker.bus.redis_bus import RedisBus
from sockd.worker.bus.redis_clients import CONNECT_TIMEOUT, BusClient, bus_client

#: The message fields that number a sockd worker's publishes.
PUBLISHER_KEY, NUMBER_KEY = "sockd_pub", "sockd_seq"
#: Seconds Redis may take to confirm the subscription.
SUBSCRIBE_TIMEOUT = 5.0
#: After subscribing again, seconds before publishing again: the longest wait between two
#: reconnect attempts of the other workers, and a margin for their connect.
RESUBSCRIBE_GRACE = MAX_DELAY + 0.5


class RedisPubSubBus(RedisBus):
    """Redis pub/sub, compatible with python-socketio's ``AsyncRedisManager``."""

    name = "sockd-redis-pubsub"
    kind = "pubsub"
    #: The reply types of a subscription's confirmation and of a message.
    confirmation_type, message_type = "subscribe", "message"

    def __init__(self, url: str, settings: RedisSettings, channel: str = "socketio") -> None:
        super().__init__(url, settings, channel)
        self._subscribed = asyncio.Event()
        self._resubscribing: asyncio.TimerHandle | None = None
        self._ever_subscribed = False

    def _publishing_allowed(self) -> Callable[[], Awaitable[object]]:
        return self._wait_subscribed

    async def _wait_subscribed(self) -> None:
        await self._subscribed.wait()

    def _encode(self, data: dict[str, Any], number: int) -> str:
        data[PUBLISHER_KEY] = self.host_id
        data[NUMBER_KEY] = number
        return self.json.dumps(data)  # type: ignore[no-any-return]

    async def _send(self, batch: list[Outgoing]) -> None:
        async with self._publisher.pipeline(transaction=False) as pipe:
            for item in batch:
                pipe.publish(self.channel, item.payload)
            await pipe.execute()

    def _accepts(self, message: dict[str, Any]) -> bool:
        publisher = message.get(PUBLISHER_KEY)
        if publisher is None:  # a plain python-socketio server's
            return True
        if publisher == self.host_id:
            return False
        return self._sequences.fresh(publisher, int(message.get(NUMBER_KEY, 0)))

    async def _subscribe(self, client: BusClient) -> PubSub:
        """Subscribe to the channel (its confirmation is awaited apart)."""
        pubsub = client.pubsub()
        await pubsub.subscribe(self.channel)
        return pubsub

    async def _next(self, pubsub: PubSub, timeout: float | None) -> dict[str, Any] | None:
        """The subscription's next reply, None when ``timeout`` passed first."""
        return await pubsub.get_message(timeout=timeout)

    async def _read(self) -> AsyncIterator[bytes]:
        client = bus_client(self._url, CONNECT_TIMEOUT)
        pubsub: PubSub | None = None
        try:
            pubsub = await self._subscribe(client)
            await self._confirmed(pubsub)
            self._open_publishing()
            self._reader_connected()
            reads = EmptyReads(math.inf)
            while True:
                reads.reading()
                # Blocking: no timer per message (a stall must not cost the subscription,
                # and a dead connection is found by keepalive, redis_clients.py).
                message = await self._next(pubsub, None)
                if message is None:
                    reads.empty()
                    continue
                reads.received()
                if message["type"] == self.message_type:
                    yield message["data"]
        finally:
            if self._resubscribing is not None:
                self._resubscribing.cancel()
            self._subscribed.clear()
            if pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    def _open_publishing(self) -> None:
        if not self._ever_subscribed:  # the first time: the others are subscribed already
            self._ever_subscribed = True
            self._subscribed.set()
            return
        loop = asyncio.get_running_loop()
        self._resubscribing = loop.call_later(RESUBSCRIBE_GRACE, self._subscribed.set)

    async def _confirmed(self, pubsub: PubSub) -> None:
        """Wait for Redis to confirm the subscription (bounded)."""
        reads = EmptyReads(SUBSCRIBE_TIMEOUT)
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            while True:
                reads.reading()
                message = await self._next(pubsub, SUBSCRIBE_TIMEOUT)
                if message is None:
                    reads.empty()
                elif message["type"] == self.confirmation_type:
                    return
