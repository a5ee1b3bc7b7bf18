"""The Redis bus over Streams: a worker that was away reads what it missed.

Every worker appends its bus messages (``XADD``) to one stream per channel
(``socketio:stream``), trimmed to about ``[io.redis] stream_maxlen`` entries, and reads it
with ``XREAD BLOCK`` from the id of the last entry it read. A worker that lost Redis, or
whose reply was lost, reads on from where it stopped once it is back: what was published
meanwhile arrives, in publish order per publisher, once (a resend is dropped by its number,
sequences.py). Only what the stream trimmed before the reader got to it is lost, and
counted. A worker skips its own entries by their publisher field, without parsing them.

On a Redis Cluster the stream is one key, so it lives on one shard (and its replicas):
a Cluster makes the bus highly available, not faster. redis-py follows the key when its
slot migrates (MOVED, ASK; shard_owner.py says so once); MIGRATE moves the stream whole,
ids included, so readers go on from where they were.

Stream ids are offsets: :attr:`RedisStreamsBus.last_id` is where this worker is, so a
buffer of missed packets can be the stream itself. When Redis restarts without its data,
the stream starts again below that id (or is not there yet): the reader then reads it from
its start. A new worker starts at the stream's end.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from redis.exceptions import RedisError, ResponseError

from sockd.config.io import RedisSettings
from sockd.worker.bus.backoff import EmptyReads
from sockd.worker.bus.outbound_queue import Outgoing
from sockd.worker.bus.redis_bus import RedisBus
from sockd.worker.bus.redis_clients import BusClient, bus_client
from sockd.worker.bus.shard_owner import ShardOwner

log = logging.getLogger("sockd.bus")

#: Entries one read takes at most.
READ_COUNT = 500
#: Seconds one XREAD waits for an entry; its reply may take this much longer (a stalled
#: Redis is found out then).
BLOCK, REPLY_MARGIN = 5.0, 3.0
#: The id before every entry.
START = b"0-0"

#: What XREAD answers: per stream, its entries as (id, fields).
StreamReply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]


class RedisStreamsBus(RedisBus):
    """A bus on one Redis stream per channel."""

    name = "sockd-redis-streams"
    kind = "streams"

    def __init__(self, url: str, settings: RedisSettings, channel: str = "socketio") -> None:
        super().__init__(url, settings, channel)
        self.stream = f"{channel}:stream"
        self._publisher_field: bytes = self.host_id.encode()
        #: The id of the last entry this worker read (None until it first connected).
        self.last_id: bytes | None = None
        self._owner = ShardOwner(self.stream, log)

    async def _send(self, batch: list[Outgoing]) -> None:
        maxlen = self._settings.stream_maxlen
        async with self._publisher.pipeline(transaction=False) as pipe:
            for item in batch:
                fields: dict[Any, Any] = {
                    "h": self._publisher_field,
                    "s": item.number,
                    "m": item.payload,
                }
                pipe.xadd(self.stream, fields, maxlen=maxlen, approximate=True)
            await pipe.execute()
        self._owner.check(self._publisher)

    async def _read(self) -> AsyncIterator[Any]:
        client = bus_client(self._url, BLOCK + REPLY_MARGIN)
        try:
            await self._resume(client)
            self._reader_connected()
            reads = EmptyReads(BLOCK)
            while True:
                reads.reading()
                reply = cast(
                    StreamReply,
                    await client.xread(
                        {self.stream: self.last_id or START},
                        count=READ_COUNT,
                        block=int(BLOCK * 1000),
                    ),
                )
                if not reply:
                    reads.empty()
                    continue
                reads.received()
                for _stream, entries in reply:
                    for entry_id, entry in entries:
                        self.last_id = entry_id
                        item = self._entry(entry_id, entry)
                        if item is not None:
                            yield item
        finally:
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    def _entry(self, entry_id: bytes, fields: dict[bytes, bytes]) -> Any:
        """What one entry gives the listener: its message, or None (a subclass may give
        more: recovery delivers its stored packets with their ids)."""
        return self._fresh(fields)

    def _fresh(self, fields: dict[bytes, bytes]) -> bytes | None:
        """The entry's message, unless it is this worker's own or a copy of one read."""
        publisher = fields.get(b"h")
        if publisher == self._publisher_field:
            return None
        try:
            number, payload = int(fields[b"s"]), fields[b"m"]
        except (KeyError, ValueError):
            return None  # not written by a sockd worker
        if publisher is None or not self._sequences.fresh(publisher.decode(), number):
            return None
        return payload

    async def _resume(self, client: BusClient) -> None:
        """Where to read from after (re)connecting."""
        newest = await self._newest_id(client)
        if self.last_id is None:
            self.last_id = newest
        elif _order(newest) < _order(self.last_id):
            log.warning(
                "redis bus: the stream %s starts again below the last entry this worker "
                "read (Redis lost its data): reading it from its start",
                self.stream,
            )
            self.last_id = START

    async def _newest_id(self, client: BusClient) -> bytes:
        try:
            info: dict[Any, Any] = await client.xinfo_stream(self.stream)
        except ResponseError as exc:
            if "no such key" not in str(exc).lower():
                raise
            return START
        return bytes(info["last-generated-id"])


def _order(entry_id: bytes) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition(b"-")
    return int(milliseconds), int(sequence or 0)
