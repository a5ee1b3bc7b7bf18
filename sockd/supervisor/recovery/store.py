"""The master's recovery store: the one sequencer of stored packets, and the sessions.

Pure logic on numbers and times given to it (the relay, ``relay.py``, feeds it frames and
the clock). Offsets are ``<epoch>-<n>``: ``n`` counts stored packets, and the epoch, random
per master, makes an offset of another master (a restart, an upgrade) unknown rather than
wrong. Restoring is all or nothing: a session comes back with every packet it missed, in
order, or the client gets a fresh one (Node's rule, and sockd's bound on how many).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sockd.supervisor.recovery.packet_log import PacketLog, StoredPacket
from sockd.supervisor.recovery.sessions import Session, SessionTable
from sockd.wire.recovery import sequenced

_OFFSET = re.compile(r"([0-9a-f]{8})-([0-9]{1,18})")


@dataclass(frozen=True)
class Bounds:
    """``[io.recovery]``, as the store applies it."""

    max_disconnection_duration: float
    #: How long stored packets are kept: the window, plus the time a dead transport may
    #: go unnoticed (ping interval + ping timeout), whose packets its client missed too.
    retention: float
    max_sessions: int
    max_buffer_bytes: int
    max_missed_packets: int


@dataclass
class Restored:
    session: Session
    missed: list[StoredPacket]
    #: The worker that held it until now (its transport still open), if any.
    taken_from: int | None


@dataclass
class Refused:
    reason: str
    #: The session this refusal ended (its client came back and cannot have it), if any.
    ended: Session | None = None


@dataclass
class Counters:
    """What the bounds dropped, for the relay's periodic log line."""

    packets_over_bytes: int = 0
    sessions_evicted: int = 0
    sessions_refused: int = 0


class RecoveryStore:
    def __init__(self, bounds: Bounds, epoch: str | None = None) -> None:
        self.bounds = bounds
        self.epoch = epoch or secrets.token_hex(4)
        self.log = PacketLog(bounds.max_buffer_bytes)
        self.sessions = SessionTable(bounds.max_sessions)
        self.counters = Counters()

    def configure(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.log.max_bytes = bounds.max_buffer_bytes
        self.sessions.max_sessions = bounds.max_sessions

    def offset(self, n: int) -> str:
        return f"{self.epoch}-{n}"

    def number(self, offset: str) -> int | None:
        """The ``n`` of one of this store's offsets, or None."""
        match = _OFFSET.fullmatch(offset)
        if match is None or match[1] != self.epoch or int(match[2]) > self.log.last:
            return None
        return int(match[2])

    # -- packets -----------------------------------------------------------------------

    def sequence(self, header: dict[str, Any], blobs: list[bytes], now: float) -> StoredPacket:
        """Number a worker's stored packet; what every worker delivers is its payload."""
        namespace, rooms, excluded = header["n"], header["r"], header["x"]
        n = self.log.next_number()
        text, *attachments = blobs
        targeting = {"n": namespace, "r": rooms, "x": excluded}
        stored = StoredPacket(
            n, now, namespace, tuple(rooms) if rooms is not None else None, frozenset(excluded),
            sequenced(self.offset(n), targeting, text, attachments),
        )  # fmt: skip
        self.counters.packets_over_bytes += self.log.append(stored)
        return stored

    # -- sessions, as their workers write them through ---------------------------------------

    def open(self, note: dict[str, Any], worker: int, start: int) -> list[Session]:
        """A new session on ``worker``; returns the sessions evicted to keep it."""
        session = Session(
            note["pid"], note["sid"], note["namespace"], set(note["rooms"]) | {note["sid"]},
            note.get("data"), start, origin=worker, owner=worker, last_owner=worker,
        )  # fmt: skip
        evicted = self.sessions.add(session)
        if evicted is None:
            self.counters.sessions_refused += 1
            return []
        self.counters.sessions_evicted += len(evicted)
        return evicted

    def owned(self, pid: str, worker: int) -> Session | None:
        """Session ``pid`` if ``worker`` holds it: notes of a worker it moved away from (a
        late ping timeout of the old transport, say) change nothing."""
        session = self.sessions.get(pid)
        return session if session is not None and session.owner == worker else None

    def lost(self, pid: str, worker: int, reason: str, now: float) -> None:
        session = self.owned(pid, worker)
        if session is not None:
            self.sessions.detach(session, now, reason)

    def end(self, pid: str, worker: int) -> Session | None:
        """A real disconnect: the session is gone; returned for the notice to its origin."""
        session = self.owned(pid, worker)
        return self.sessions.remove(pid) if session is not None else None

    def worker_gone(self, worker: int, now: float) -> None:
        """A worker exited (perhaps killed): the sessions it held are lost now."""
        for session in self.sessions.owned_by(worker):
            self.sessions.detach(session, now, "transport close")

    # -- restoring -------------------------------------------------------------------------

    def restore(
        self, pid: str, namespace: str, offset: str | None, worker: int, now: float
    ) -> Restored | Refused:
        session = self.sessions.get(pid)
        if session is None:
            return Refused("unknown session")
        if session.namespace != namespace:
            return Refused("a session of another namespace")
        lost_at = session.disconnected_at
        if lost_at is not None and now - lost_at > self.bounds.max_disconnection_duration:
            return self._refuse(session, "expired")
        n = session.start if offset is None else self.number(offset)
        if n is None:
            return self._refuse(session, "an offset this master never gave")
        n = max(n, session.start)
        rooms = frozenset(session.rooms)
        if not self.log.complete_after(namespace, n, rooms):
            return self._refuse(session, "packets it missed were dropped")
        missed = []
        for packet in self.log.missed(namespace, n, rooms, session.sid):
            missed.append(packet)
            if len(missed) > self.bounds.max_missed_packets:
                return self._refuse(session, "it missed too many packets")
        taken_from = session.owner
        self.sessions.attach(session, worker)
        return Restored(session, missed, taken_from)

    def _refuse(self, session: Session, reason: str) -> Refused:
        return Refused(reason, self.sessions.remove(session.pid))

    # -- time --------------------------------------------------------------------------------

    def expire(self, now: float) -> list[Session]:
        """Drop what is too old; the sessions that expired (gone for good)."""
        self.log.drop_older_than(now - self.bounds.retention)
        return self.sessions.expired(now - self.bounds.max_disconnection_duration)

    def forget_watermarks(self) -> None:
        """Let go of what no session can need any more (a walk over the sessions)."""
        start = self.sessions.min_start()
        self.log.forget_watermarks(self.log.last if start is None else start)
