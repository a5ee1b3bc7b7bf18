"""The master's recoverable sessions: who they are, where they are, and since when they are gone.

A session is written through by the worker that holds it (connect, rooms, data, its loss
or its end), because a killed worker says nothing: when a worker exits, its attached
sessions count as lost at that moment. A session is *attached* while a worker holds its
socket (``owner``), *detached* from its loss until it is restored or expires.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Session:
    pid: str
    sid: str
    namespace: str
    #: Its rooms, its own id among them (as Node's ``socket.rooms``).
    rooms: set[str]
    #: What the app saved for it (``save_session``; ``ctx.state`` in the app model).
    data: Any
    #: The log's last number when it started: a restore without offset replays from here.
    start: int
    #: The worker (pid) where its connection started, and the one holding it now (None
    #: while detached), and the last one that held it.
    origin: int
    owner: int | None
    last_owner: int
    disconnected_at: float | None = None
    #: Why it was lost (Socket.IO's words), for the hooks that run when it expires.
    reason: str | None = None


class SessionTable:
    """Sessions by pid, bounded in count; the oldest detached session goes first."""

    def __init__(self, max_sessions: int) -> None:
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._detached: OrderedDict[str, None] = OrderedDict()
        self._by_owner: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, pid: str) -> bool:
        return pid in self._sessions

    def get(self, pid: str) -> Session | None:
        return self._sessions.get(pid)

    @property
    def detached_count(self) -> int:
        return len(self._detached)

    def add(self, session: Session) -> list[Session] | None:
        """Keep ``session`` (attached to its owner); the detached sessions evicted to make
        room, or None when the table is full of attached ones (then it is not kept)."""
        evicted = []
        while len(self._sessions) >= self.max_sessions and self._detached:
            evicted.append(self.remove(next(iter(self._detached))))
        if len(self._sessions) >= self.max_sessions:
            return None
        self._sessions[session.pid] = session
        if session.owner is not None:
            self._by_owner.setdefault(session.owner, set()).add(session.pid)
        return evicted

    def attach(self, session: Session, owner: int) -> None:
        self._unown(session)
        self._detached.pop(session.pid, None)
        session.owner = session.last_owner = owner
        session.disconnected_at = session.reason = None
        self._by_owner.setdefault(owner, set()).add(session.pid)

    def detach(self, session: Session, now: float, reason: str) -> None:
        if session.owner is None:
            return
        self._unown(session)
        session.owner = None
        session.disconnected_at = now
        session.reason = reason
        self._detached[session.pid] = None

    def remove(self, pid: str) -> Session:
        session = self._sessions.pop(pid)
        self._unown(session)
        self._detached.pop(pid, None)
        return session

    def owned_by(self, owner: int) -> list[Session]:
        return [self._sessions[pid] for pid in self._by_owner.get(owner, ())]

    def expired(self, limit: float) -> list[Session]:
        """Remove and return the sessions detached before ``limit``."""
        gone = []
        for pid in self._detached:
            session = self._sessions[pid]
            if session.disconnected_at is None or session.disconnected_at >= limit:
                break
            gone.append(session)
        for session in gone:
            self.remove(session.pid)
        return gone

    def min_start(self) -> int | None:
        """The earliest start of the sessions kept (a walk over all of them)."""
        return min((session.start for session in self._sessions.values()), default=None)

    def _unown(self, session: Session) -> None:
        if session.owner is None:
            return
        owned = self._by_owner.get(session.owner)
        if owned is not None:
            owned.discard(session.pid)
            if not owned:
                del self._by_owner[session.owner]
