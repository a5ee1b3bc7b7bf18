"""What the two Redis buses share: publishing that never waits, reading that always comes back.

Redis is a dependency at run time, not a precondition of a worker: a worker starts, and
serves its own clients, whether Redis answers or not; its bus is "degraded" meanwhile
(``sockd status``). Publishes go to a bounded queue and return at once
(outbound_queue.py), each numbered so that readers drop a resend (sequences.py). The reader
reconnects after a short, jittered, capped backoff (backoff.py) for as long as the worker
lives, and never spins. A subclass says how a batch is sent and how messages are read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from redis.exceptions import RedisClusterException, RedisError

from sockd.config.io import RedisSettings, redacted_url
from sockd.worker.bus.backoff import SpinningRead, retry_delay
from sockd.worker.bus.bus_health import BusHealth
from sockd.worker.bus.cluster_inbox import ClusterInbox
from sockd.worker.bus.outbound_queue import OutboundQueue, Outgoing
from sockd.worker.bus.redis_clients import bus_client
from sockd.worker.bus.sequences import Sequences

log = logging.getLogger("sockd.bus")

#: Seconds a batch of publishes may take before it is sent again.
PUBLISH_TIMEOUT = 3.0
#: Failures that mean "Redis is not there right now" (redis-py raises the Cluster's
#: "no node reachable" and "slot not covered" outside RedisError).
OUTAGE_ERRORS = (RedisError, RedisClusterException, OSError, SpinningRead)


class RedisBus(ClusterInbox):
    """A python-socketio pub/sub manager over Redis that outlives Redis outages."""

    #: "streams" or "pubsub", as in ``[io.redis] bus``.
    kind: str

    def __init__(self, url: str, settings: RedisSettings, channel: str = "socketio") -> None:
        super().__init__(channel=channel)
        self._url = url
        self._settings = settings
        self._sequences = Sequences()
        self._queue = OutboundQueue(
            self._send_batch, settings.queue_limit, ready=self._publishing_allowed()
        )
        self._health = BusHealth(self.kind, redacted_url(url), settings.queue_limit, log)
        self._publisher = bus_client(url, PUBLISH_TIMEOUT)
        self._attempt = 0

    def stats(self) -> dict[str, Any]:
        """This bus's figures for ``sockd status``."""
        return {
            **self._health.stats(len(self._queue), self._queue.dropped),
            "missed": self._sequences.missed,
            "duplicates": self._sequences.duplicates,
        }

    # -- publishing ---------------------------------------------------------------

    def _publishing_allowed(self) -> Callable[[], Awaitable[object]] | None:
        """What the queue awaits before each batch; None: nothing."""
        return None

    def _encode(self, data: dict[str, Any], number: int) -> str:
        """The message as it goes to Redis."""
        return self.json.dumps(data)  # type: ignore[no-any-return]

    async def _send(self, batch: list[Outgoing]) -> None:
        """Send one batch in one round trip, or raise."""
        raise NotImplementedError

    def bus_up(self) -> bool:
        return self._health.connected

    async def _publish(self, data: dict[str, Any]) -> None:
        self.published += 1
        number = self._sequences.next()
        if not self._queue.put(Outgoing(number, self._encode(data, number))):
            self._health.dropped(len(self._queue), self._queue.dropped)

    async def _send_batch(self, batch: list[Outgoing]) -> None:
        try:
            await self._send(batch)
        except Exception as exc:
            self._health.publish_failed(exc, len(self._queue), self._queue.dropped)
            raise
        self._health.published(len(self._queue) - len(batch), self._queue.dropped)

    # -- reading ------------------------------------------------------------------

    def _read(self) -> AsyncIterator[bytes]:
        """Connect, call :meth:`_reader_connected`, then yield each message's JSON."""
        raise NotImplementedError

    def _reader_connected(self) -> None:
        self._attempt = 0
        self._health.reader_up(len(self._queue), self._queue.dropped)

    async def _listen(self) -> AsyncIterator[Any]:
        async for message in self._delivering_encoded(self._received()):
            yield message

    async def _received(self) -> AsyncIterator[bytes]:
        """Every message read, across as many reconnects as it takes."""
        while True:
            try:
                async for payload in self._read():
                    yield payload
            except OUTAGE_ERRORS as exc:
                self._health.reader_down(exc, len(self._queue), self._queue.dropped)
            except Exception as exc:  # a bug, not an outage: say so, and carry on reading
                log.exception("redis bus: the reader failed")
                self._health.reader_down(exc, len(self._queue), self._queue.dropped)
            self._attempt += 1
            await asyncio.sleep(retry_delay(self._attempt))
