"""A subscription whose TCP connection timed out is reported lost, not read as "no message".

When TCP keepalive gives up on a silent Redis (a network partition), the kernel's ETIMEDOUT
ends up stored on the connection's StreamReader. redis-py 8.1 reads that as its own read
timeout and returns None, again and again without waiting: the pub/sub reader spun at 100%
CPU and never reconnected (sockd/worker/bus/lost_connection_parser.py). A partition cannot
be made on loopback, so these tests store the same error where the transport puts it, on
a real subscription to a real redis-server, and read.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError

from sockd.worker.bus.redis_clients import bus_client


async def _subscribed(client: redis.asyncio.Redis) -> Any:
    pubsub = client.pubsub()
    await pubsub.subscribe("lost-connection-test")
    message = await pubsub.get_message(timeout=5.0)
    assert message is not None and message["type"] == "subscribe", message
    return pubsub


def _time_out(pubsub: Any) -> None:
    """What the transport does when the kernel reports ETIMEDOUT."""
    pubsub.connection._reader.set_exception(OSError(errno.ETIMEDOUT, "Connection timed out"))


def test_the_bus_client_reports_a_timed_out_connection_as_lost(redis_server: str) -> None:
    async def scenario() -> None:
        client = bus_client(redis_server, 2.0)
        pubsub = await _subscribed(client)
        try:
            _time_out(pubsub)
            with pytest.raises(RedisConnectionError):  # blocking, as the bus reads
                await pubsub.get_message(timeout=None)
        finally:
            await pubsub.aclose()
            await client.aclose()

    asyncio.run(scenario())


def test_redis_py_alone_reads_it_as_no_message_without_waiting(redis_server: str) -> None:
    """The upstream bug the bus works around. When this fails, redis-py fixed it: remove
    lost_connection_parser.py (and this test)."""

    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_server)
        pubsub = await _subscribed(client)
        try:
            _time_out(pubsub)
            turns = 0

            async def count_turns() -> None:
                nonlocal turns
                while True:
                    turns += 1
                    await asyncio.sleep(0)

            counting = asyncio.ensure_future(count_turns())
            await asyncio.sleep(0)
            before = turns
            answers = [await pubsub.get_message(timeout=None) for _ in range(1000)]
            during = turns - before
            counting.cancel()
            # A thousand blocking reads (listen()'s), all answered None without the event
            # loop turning once in between: a reader looping on them starves everything.
            assert answers == [None] * 1000
            assert during == 0
        finally:
            await pubsub.aclose()
            await client.aclose()

    asyncio.run(scenario())
