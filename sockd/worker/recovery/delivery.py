"""Numbered stored packets onto this worker's sockets, and restored sockets put back among them.

Every stored packet reaches a worker with its offset, in the store's one order. A socket
being restored must get what it missed (the store's answer, up to some position P) before
any later packet, and nothing twice:

- over the master, the answer arrives in its place among the numbered packets, so the
  socket is registered and its missed packets written in that same step: nothing can come
  between;
- over Redis, the stream is read (for the missed packets) while the reader goes on
  delivering: from its registration until its missed packets are written, a restoring
  socket's live packets wait in a buffer; then those after P follow, and a *guard* at the
  last offset written drops any that the reader brings later (it may lag behind P).
"""

from __future__ import annotations

import asyncio
from typing import Any

from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from sockd.worker.hot_path.direct_emit import DirectEmit
from sockd.worker.hot_path.direct_write import DirectWrite

Packets = list[eio_packet.Packet]
#: Live packets one restoring socket may hold back; past it the restore fails (a fresh
#: session) rather than lose one.
MAX_HELD = 10_000
#: Offsets in the store's order, comparable (an IPC number, a stream id's two parts).
Order = tuple[int, ...]
Key = tuple[str, str]  # (namespace, socket id)


def packets_of(text: bytes, attachments: list[bytes] | tuple[bytes, ...] = ()) -> Packets:
    """The Engine.IO packets of a stored packet's text part and its binary attachments."""
    return [
        eio_packet.Packet(eio_packet.MESSAGE, text.decode()),
        *(eio_packet.Packet(eio_packet.MESSAGE, blob) for blob in attachments),
    ]


def write_now(socket: AsyncSocket, packets: Packets) -> None:
    """Put ``packets`` on a live session now, without awaiting (so nothing overtakes them)."""
    now = asyncio.get_running_loop().time()
    if not (isinstance(socket, DirectWrite) and socket.deliver_if_alive(packets, now)):
        for pkt in packets:
            socket.queue.put_nowait(pkt)


class NumberedDelivery(DirectEmit):
    """Mixed into the recovering manager: delivery in the store's order."""

    def setup_delivery(self) -> None:
        #: Restoring sockets: their live packets wait here, with their order.
        self._restoring: dict[Key, list[tuple[Order, Packets]]] = {}
        #: Restored sockets: packets at or before this order are not delivered again.
        self._guards: dict[Key, Order] = {}
        #: Per namespace, how many sockets are restoring or guarded (the fast path checks).
        self._special: dict[str, int] = {}
        #: Restoring sockets that held back more than MAX_HELD packets.
        self._overflowed: set[Key] = set()

    async def deliver_numbered(
        self, order: Order, packets: Packets, namespace: str, rooms: Any, excluded: list[Any]
    ) -> None:
        """Deliver a numbered packet to the sockets of ``rooms`` (None: all), but those in
        ``excluded``; restoring sockets buffer it, guarded ones may have had it."""
        if namespace not in self.rooms:
            return
        if self._special.get(namespace):
            excluded = list(excluded)
            for key in [*self._restoring, *self._guards]:
                if key[0] == namespace and self._targets(key[1], namespace, rooms, excluded):
                    excluded.append(key[1])
                    self._hold_or_pass(key, order, packets)
        await self._deliver(packets, namespace, rooms, excluded)

    def _targets(self, sid: str, namespace: str, rooms: Any, excluded: list[Any]) -> bool:
        if sid in excluded:
            return False
        known = self.rooms.get(namespace, {})
        targeted = [None] if rooms is None else rooms
        return any(sid in known.get(room, ()) for room in targeted)

    def _hold_or_pass(self, key: Key, order: Order, packets: Packets) -> None:
        buffered = self._restoring.get(key)
        if buffered is not None:
            if len(buffered) < MAX_HELD:
                buffered.append((order, packets))
            else:
                self._overflowed.add(key)
            return
        guard = self._guards[key]
        if order > guard:
            del self._guards[key]  # the reader is past what the restore wrote
            self._count(key[0], -1)
            self._write_to(key, packets)

    def start_restoring(self, namespace: str, sid: str) -> None:
        self._restoring[(namespace, sid)] = []
        self._count(namespace, 1)

    def finish_restoring(
        self, namespace: str, sid: str, missed: list[Packets], position: Order | None
    ) -> bool:
        """Write the missed packets, then the buffered ones after ``position`` (the last the
        store's answer covered); later ones at or before it are dropped (``position``
        None: the answer came in order, nothing can come late). False, writing nothing,
        if the socket held back more than it may."""
        key = (namespace, sid)
        buffered = self._restoring.pop(key, [])
        self._count(namespace, -1)
        if key in self._overflowed:
            self._overflowed.discard(key)
            return False
        for packets in missed:
            self._write_to(key, packets)
        last = position
        for order, packets in buffered:
            if position is None or order > position:
                self._write_to(key, packets)
                last = order
        if last is not None:
            self._guards[key] = last
            self._count(namespace, 1)
        return True

    def forget_restoring(self, namespace: str, sid: str) -> None:
        """The socket is gone: its buffer and guard too."""
        key = (namespace, sid)
        if self._restoring.pop(key, None) is not None:
            self._count(namespace, -1)
        if self._guards.pop(key, None) is not None:
            self._count(namespace, -1)
        self._overflowed.discard(key)

    def _write_to(self, key: Key, packets: Packets) -> None:
        eio_sid = self.eio_sid_from_sid(key[1], key[0])
        socket = self.server.eio.sockets.get(eio_sid) if eio_sid is not None else None
        if socket is not None and not socket.closed:
            write_now(socket, packets)

    def _count(self, namespace: str, change: int) -> None:
        count = self._special.get(namespace, 0) + change
        if count > 0:
            self._special[namespace] = count
        else:
            self._special.pop(namespace, None)
