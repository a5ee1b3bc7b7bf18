"""The master bus with recovery on: stored packets and session notes go through the master."""

from __future__ import annotations

from sockd.wire.frames import Kind
from sockd.wire.recovery import unpack
from sockd.worker.bus.managers import MasterBusManager
from sockd.worker.hosting.master_link import MasterLink
from sockd.worker.recovery.delivery import packets_of
from sockd.worker.recovery.manager import RecoveringManager
from sockd.worker.recovery.master_store import MasterStore


class RecoveringMasterBus(RecoveringManager, MasterBusManager):
    """:class:`MasterBusManager` whose store is the master (:mod:`.master_store`)."""

    def __init__(self, link: MasterLink) -> None:
        super().__init__(link)
        self._store = MasterStore(link.send)
        self.use_store(self._store)

    async def on_frame(self, kind: Kind, payload: bytes) -> None:
        if kind is Kind.SEQUENCED:
            header, (text, *attachments) = unpack(payload)
            self._store.position = offset = header["o"]
            packets = packets_of(text, attachments)
            order = self._store.order(offset)
            await self.deliver_numbered(order, packets, header["n"], header["r"], header["x"])
        elif kind is Kind.RECOVERY:
            header, blobs = unpack(payload)
            op = header.get("op")
            if op == "restored":
                self._store.answered(header, blobs)
            elif op == "detach":
                self.moved(header["namespace"], header["sid"])
            elif op == "ended":
                self.session_ended(header)
