"""The Redis Streams bus with recovery on: the stream numbers stored packets.

A stored packet is published as a stream entry of its own (its message starts with
``{"method":"sockd-stored",``, so the reader knows it without parsing) and every worker,
the one that published it too, delivers it when its reader reaches it, with the entry's
id as its offset (``redis_replay.py``). A worker's own entries are otherwise skipped, and
copies (a publish sent again) are dropped by the publisher's number, as for any message.
Orders and notices between workers (a session moved, a session ended) are bus messages
addressed to one worker (``sockd-recovery``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, NamedTuple

from redis.exceptions import ResponseError

from sockd.config.io import RecoverySettings, RedisSettings
from sockd.worker.bus.redis_clients import BusClient
from sockd.worker.bus.redis_streams import RedisStreamsBus
from sockd.worker.recovery.manager import RecoveringManager
from sockd.worker.recovery.redis_replay import STORED, STORED_PREFIX, entry_packets, stream_order
from sockd.worker.recovery.redis_store import RedisStore

#: Messages for one worker's recovery: a session moved away, a session ended.
CONTROL = "sockd-recovery"
CONTROL_PREFIX = b'{"method":"' + CONTROL.encode() + b'",'


class StoredEntry(NamedTuple):
    entry_id: str
    message: bytes


class RecoveringStreamsBus(RecoveringManager, RedisStreamsBus):
    def __init__(
        self, url: str, settings: RedisSettings, recovery: RecoverySettings,
        channel: str = "socketio",
    ) -> None:  # fmt: skip
        super().__init__(url, settings, channel)
        self._own_stored = 0
        self._redis_store = RedisStore(self, url, recovery)
        self.use_store(self._redis_store)
        self._keeper: asyncio.Task[None] | None = None

    def initialize(self) -> None:
        super().initialize()
        self._keeper = asyncio.ensure_future(self._redis_store.keep_alive())

    # -- publishing ------------------------------------------------------------------------

    async def publish_stored(
        self, namespace: str, rooms: Sequence[Any] | None, excluded: Sequence[str], text: str,
        attachments: Sequence[bytes],
    ) -> None:  # fmt: skip
        await self._publish({
            "method": STORED, "n": namespace, "r": list(rooms) if rooms is not None else None,
            "x": list(excluded), "p": text, "a": [blob.hex() for blob in attachments],
        })  # fmt: skip

    async def tell(self, worker: str, op: str, fields: dict[str, Any]) -> None:
        """A recovery order or notice for ``worker`` (by its bus id)."""
        if worker:
            await self._publish({"method": CONTROL, "to": worker, "op": op, **fields})

    def _encode(self, data: dict[str, Any], number: int) -> str:
        if data.get("method") in (STORED, CONTROL):  # "method" first: the prefix shows it
            return json.dumps(data, separators=(",", ":"))
        return super()._encode(data, number)

    async def stream_end(self, client: BusClient) -> str:
        """The id of the stream's newest entry (``0-0`` with none)."""
        try:
            info: dict[Any, Any] = await client.xinfo_stream(self.stream)
        except ResponseError:
            return "0-0"
        last = info["last-generated-id"]
        return last.decode() if isinstance(last, bytes) else str(last)

    # -- reading ---------------------------------------------------------------------------

    def _entry(self, entry_id: bytes, fields: dict[bytes, bytes]) -> Any:
        message = fields.get(b"m", b"")
        if not message.startswith(STORED_PREFIX):
            return self._fresh(fields)
        publisher = fields.get(b"h")
        try:
            number = int(fields[b"s"])
        except (KeyError, ValueError):
            return None
        if publisher == self._publisher_field:  # this worker's own: delivered here too
            if number <= self._own_stored:
                return None
            self._own_stored = number
        elif publisher is None or not self._sequences.fresh(publisher.decode(), number):
            return None
        return StoredEntry(entry_id.decode(), message)

    async def _listen(self) -> AsyncIterator[Any]:
        async for message in self._delivering_encoded(self._sorted(self._received())):
            yield message

    async def _sorted(self, received: AsyncIterator[Any]) -> AsyncIterator[bytes]:
        """Stored packets delivered, orders obeyed, in their place; the rest passed on."""
        async for item in received:
            if isinstance(item, StoredEntry):
                message = json.loads(item.message)
                packets = entry_packets(item.entry_id, message)
                order = stream_order(item.entry_id)
                await self.deliver_numbered(order, packets, message["n"], message["r"],
                                            message["x"])  # fmt: skip
            elif isinstance(item, bytes) and item.startswith(CONTROL_PREFIX):
                self._obey(json.loads(item))
            else:
                yield item

    def _obey(self, order: dict[str, Any]) -> None:
        if order.get("to") != self.host_id:
            return
        if order.get("op") == "detach":
            self._redis_store.forget(order.get("pid", ""))
            self.moved(order["namespace"], order["sid"])
        elif order.get("op") == "ended":
            self.session_ended(order)
