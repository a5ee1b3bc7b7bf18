"""The worker's end of the control channel to the master."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any, cast

from sockd.wire.coalesced_writer import CoalescedWriter
from sockd.wire.frames import FrameDecoder, FrameError, Kind, encode_frame, encode_json_frame

#: The frames of cluster requests a worker receives.
CLUSTER_KINDS = (Kind.CLUSTER_REQUEST, Kind.CLUSTER_SENT, Kind.CLUSTER_ANSWER, Kind.CLUSTER_GONE)


class MasterLink(asyncio.Protocol):
    """Sends lifecycle reports and bus messages; receives orders and bus messages (every
    kind but DRAIN goes to ``on_bus``, with its kind).

    Losing this channel means the master is gone, and ``on_master_lost`` runs
    so the worker drains and exits instead of serving on as an orphan.
    """

    def __init__(
        self,
        *,
        on_drain: Callable[[float], None],
        on_bus: Callable[[Kind, bytes], None],
        on_master_lost: Callable[[], None],
    ) -> None:
        self._on_drain = on_drain
        self._on_bus = on_bus
        self._on_master_lost = on_master_lost
        #: Where cluster request frames go (sockd.worker.cluster.ipc_transport), once set.
        self.on_cluster: Callable[[Kind, bytes], None] | None = None
        self._decoder = FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._writer: CoalescedWriter | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @classmethod
    async def connect(cls, fd: int, **handlers: Any) -> MasterLink:
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        link = cls(**handlers)
        await asyncio.get_running_loop().create_unix_connection(lambda: link, sock=sock)
        return link

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._writer = CoalescedWriter(self._transport)

    def data_received(self, data: bytes) -> None:
        try:
            frames = self._decoder.feed(data)
        except FrameError:
            if self._transport is not None:
                self._transport.abort()
            return
        for kind, payload in frames:
            if kind is Kind.DRAIN:
                self._on_drain(float(json.loads(payload)["timeout"]))
            elif kind in CLUSTER_KINDS:
                if self.on_cluster is not None:
                    self.on_cluster(kind, payload)
            else:  # bus traffic (recovery's too), in the order the master sent it
                self._on_bus(kind, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = self._writer = None
        if not self.closed.done():
            self.closed.set_result(None)
        self._on_master_lost()

    def send(self, kind: Kind, payload: bytes = b"") -> None:
        if self._writer is not None:
            self._writer.write(encode_frame(kind, payload))

    def send_json(self, kind: Kind, body: dict[str, Any]) -> None:
        if self._writer is not None:
            self._writer.write(encode_json_frame(kind, body))

    async def close(self) -> None:
        """Flush what is queued, then close (so a FAILED report is not lost)."""
        if self._writer is not None:
            self._writer.flush()
        if self._transport is not None:
            self._transport.close()
        await asyncio.wait_for(asyncio.shield(self.closed), 5)
