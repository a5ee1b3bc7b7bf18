"""The default cluster bus: python-socketio pub/sub over the master.

``AsyncPubSubManager`` needs only ``_publish`` and ``_listen``. Messages go to
the master on the control channel and the master relays each one to every
other ready worker, so rooms, broadcasts, ``close_room``, remote disconnects
and cross-worker acks work on one host without Redis.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from sockd.channel import Kind
from sockd.worker.hot_path.direct_emit import DirectEmit
from sockd.worker.master_link import MasterLink


class MasterBusManager(AsyncPubSubManager, DirectEmit):
    name = "sockd-master-bus"

    def __init__(self, link: MasterLink, channel: str = "socketio") -> None:
        super().__init__(channel=channel)
        self._link = link
        self._inbox: asyncio.Queue[bytes] = asyncio.Queue()

    def deliver(self, payload: bytes) -> None:
        """A message another worker published, relayed by the master."""
        self._inbox.put_nowait(payload)

    async def _publish(self, data: dict[str, Any]) -> None:
        self._link.send(Kind.BUS, self.json.dumps(data).encode())

    async def _listen(self) -> AsyncIterator[bytes]:
        while True:
            yield await self._inbox.get()


class RedisBusManager(socketio.AsyncRedisManager, DirectEmit):
    """python-socketio's Redis manager, delivering on this worker like the master bus.

    Publishes go out one at a time, in the order they were made: the library awaits each
    on a connection pool, so concurrent handlers' publishes took separate connections and
    reached the other workers out of order (a test sending 100 broadcasts in flight saw
    it); the master bus, and Node's Redis adapter, keep the order.
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._publishing = asyncio.Lock()  # FIFO: waiters acquire in arrival order

    async def _publish(self, data: dict[str, Any]) -> None:
        async with self._publishing:
            await super()._publish(data)
