"""The master's log of stored packets: numbered in one order, bounded in age and bytes.

Every stored packet of every worker gets the next number ``n`` here before any worker
delivers it. A restore asks for the packets after some ``n`` that a session's rooms match;
an index per room (and one for packets to the whole namespace) answers that without
walking the packets of other rooms.

Dropping the oldest packets (by age, or when the bytes bound is reached) must never make a
restore skip one silently: each room remembers the number of the last packet dropped from
it (its *watermark*), and a restore from ``n`` is complete only if none of the session's
rooms lost a packet after ``n``. A client that received nothing for a while thus still
recovers while the packets it would have needed are all there, where Node's rule (its
offset must still be in the buffer) turns it away.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

#: Bytes counted for each packet besides its own (the record and its index entries).
OVERHEAD = 200
#: Empty room indexes kept for their watermark at most; beyond, they fold into the floor.
MAX_WATERMARKS = 100_000

#: The index key of packets to every socket of a namespace: (namespace, None).
RoomKey = tuple[str, str | None]


@dataclass(slots=True)
class StoredPacket:
    n: int
    at: float
    namespace: str
    #: The rooms it goes to; None: the whole namespace.
    rooms: tuple[str, ...] | None
    excluded: frozenset[str]
    #: What a worker delivers: the SEQUENCED payload.
    payload: bytes

    @property
    def size(self) -> int:
        return len(self.payload) + OVERHEAD

    def reaches(self, rooms: frozenset[str] | set[str], sid: str) -> bool:
        """Whether socket ``sid`` in ``rooms`` (its own id among them) gets this packet
        (python-socketio's ``skip_sid`` excludes sockets by id)."""
        targeted = self.rooms is None or not rooms.isdisjoint(self.rooms)
        return targeted and sid not in self.excluded


@dataclass(slots=True)
class RoomIndex:
    """The packets of one room still in the log, oldest first."""

    packets: list[StoredPacket] = field(default_factory=list)
    head: int = 0
    #: The number of the last packet dropped from this room (0: none).
    watermark: int = 0

    def drop_first(self) -> None:
        self.watermark = self.packets[self.head].n
        self.head += 1
        if self.head > 64 and self.head * 2 > len(self.packets):
            del self.packets[: self.head]
            self.head = 0

    def after(self, n: int) -> list[StoredPacket]:
        start = bisect.bisect_right(self.packets, n, lo=self.head, key=_number)
        return self.packets[start:]

    def __len__(self) -> int:
        return len(self.packets) - self.head


def _number(packet: StoredPacket) -> int:
    return packet.n


class PacketLog:
    """Numbered stored packets; ``last`` is the number of the newest (0 before any)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.last = 0
        self.bytes = 0
        self._packets: deque[StoredPacket] = deque()
        self._rooms: dict[RoomKey, RoomIndex] = {}
        #: Rooms whose packets were all dropped, kept for their watermark.
        self._empty: set[RoomKey] = set()
        #: Every room lost its packets up to here (watermarks folded in, see MAX_WATERMARKS).
        self._floor = 0

    def __len__(self) -> int:
        return len(self._packets)

    def next_number(self) -> int:
        return self.last + 1

    def append(self, packet: StoredPacket) -> int:
        """Add ``packet`` (numbered :meth:`next_number`); returns how many old ones the
        bytes bound dropped to make room."""
        self.last = packet.n
        self._packets.append(packet)
        self.bytes += packet.size
        for key in _keys(packet):
            index = self._rooms.get(key)
            if index is None:
                index = self._rooms[key] = RoomIndex()
            elif not index:
                self._empty.discard(key)
            index.packets.append(packet)
        dropped = 0
        while self.bytes > self.max_bytes and len(self._packets) > 1:
            self._drop_oldest()
            dropped += 1
        return dropped

    def drop_older_than(self, limit: float) -> int:
        """Drop the packets stored before ``limit``; how many."""
        dropped = 0
        while self._packets and self._packets[0].at < limit:
            self._drop_oldest()
            dropped += 1
        return dropped

    def _drop_oldest(self) -> None:
        packet = self._packets.popleft()
        self.bytes -= packet.size
        for key in _keys(packet):
            index = self._rooms[key]
            index.drop_first()
            if not index:
                self._empty.add(key)

    def complete_after(self, namespace: str, n: int, rooms: Iterable[str]) -> bool:
        """Whether every packet after ``n`` that ``rooms`` match is still here."""
        if self._floor > n:
            return False
        for key in _session_keys(namespace, rooms):
            index = self._rooms.get(key)
            if index is not None and index.watermark > n:
                return False
        return True

    def missed(
        self, namespace: str, n: int, rooms: frozenset[str], sid: str
    ) -> Iterator[StoredPacket]:
        """The packets after ``n`` socket ``sid`` of ``namespace`` in ``rooms`` gets, in order."""
        found: dict[int, StoredPacket] = {}
        for key in _session_keys(namespace, rooms):
            index = self._rooms.get(key)
            if index is not None:
                for packet in index.after(n):
                    found[packet.n] = packet
        for number in sorted(found):
            packet = found[number]
            if packet.reaches(rooms, sid):
                yield packet

    def forget_watermarks(self, oldest_start: int) -> None:
        """Drop empty room indexes whose watermark no session can fall behind: every
        session started at or after ``oldest_start``."""
        for key in [key for key in self._empty if self._rooms[key].watermark <= oldest_start]:
            self._forget(key)
        if len(self._empty) > MAX_WATERMARKS:
            self._floor = max(self._floor, *(self._rooms[key].watermark for key in self._empty))
            for key in list(self._empty):
                self._forget(key)

    def _forget(self, key: RoomKey) -> None:
        del self._rooms[key]
        self._empty.discard(key)


def _keys(packet: StoredPacket) -> list[RoomKey]:
    if packet.rooms is None:
        return [(packet.namespace, None)]
    return [(packet.namespace, room) for room in set(packet.rooms)]


def _session_keys(namespace: str, rooms: Iterable[str]) -> Iterator[RoomKey]:
    yield namespace, None
    for room in rooms:
        yield namespace, room
