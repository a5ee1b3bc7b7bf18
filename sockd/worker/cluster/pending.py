"""The requests a worker has out: who must still answer, what came, what is missing.

A request knows its answerers: over the master, the master names them right after it
relayed the request (``expect``); over Redis, the members alive at request time. Each
answer comes in numbered chunks, the last one flagged; a member is done with its last
chunk, and the request once every expected member is done. A member that exits is
``gone`` at once; at the deadline, every member still waited for is missing. Nothing here
waits or keeps a timer: the requester calls ``expire`` at the deadline. Pure bookkeeping,
bounded: at most ``limit`` requests out, at most the request's ``item_limit`` items kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sockd.worker.cluster.members import Failure, Member, Missing
from sockd.worker.cluster.results import ClusterBusy

#: Requests a worker may have out at once; one more is refused at once.
MAX_PENDING = 256


@dataclass
class Chunk:
    """One piece of one member's answer."""

    seq: int
    last: bool
    items: list[Any] = field(default_factory=list)
    value: Any = None
    error: str | None = None
    truncated: bool = False

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Chunk:
        items = body.get("items")
        return cls(
            seq=int(body.get("seq", 0)),
            last=bool(body.get("last", True)),
            items=items if isinstance(items, list) else [],
            value=body.get("value"),
            error=str(body["error"]) if body.get("error") is not None else None,
            truncated=bool(body.get("truncated", False)),
        )


@dataclass
class Collected:
    """What one request got, and what it did not."""

    #: Every member that was asked (this worker included, when it answered for itself).
    asked: list[Member] = field(default_factory=list)
    #: Each item of each answer, with the member it came from.
    items: list[tuple[Member, Any]] = field(default_factory=list)
    #: Each member's single value (answers that are not lists).
    values: list[tuple[Member, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    truncated: bool = False


class Pending:
    """One request out."""

    def __init__(self, request_id: str, timeout: float, item_limit: int) -> None:
        self.id = request_id
        self.timeout = timeout
        self.item_limit = item_limit
        self.collected = Collected()
        #: Members asked, by id; None until the transport knows them.
        self.expected: dict[str, Member] | None = None
        #: Why the expected members are unknown, if they stay so (said at the deadline).
        self.unknown_reason = "the other members could not be known in time"
        self._waiting: dict[str, Member] = {}
        self._next_seq: dict[str, int] = {}
        self._early: list[tuple[Member, Chunk]] = []
        self.future: asyncio.Future[Collected] = asyncio.get_running_loop().create_future()

    @property
    def finished(self) -> bool:
        return self.future.done()

    def expect(self, members: list[Member]) -> None:
        """The transport's word on who was asked (besides this worker)."""
        if self.expected is not None or self.finished:
            return
        self.expected = {member.id: member for member in members}
        self.collected.asked.extend(members)
        self._waiting.update(self.expected)
        early, self._early = self._early, []
        for member, chunk in early:
            self.answer(member, chunk)
        self._finish_if_done()

    def note(self, missing: Missing) -> None:
        """Some members may not be asked (the transport cannot know them all)."""
        if not self.finished:
            self.collected.missing.append(missing)

    def unreachable(self, reason: str) -> None:
        """The others cannot be asked (the bus is down): only this worker answers."""
        if self.finished:
            return
        self.collected.missing.append(Missing(None, reason))
        self.expect([])

    def expect_own(self, me: Member) -> None:
        """This worker answers for itself too: wait for that answer as well."""
        self.collected.asked.insert(0, me)
        self._waiting[me.id] = me

    def answer(self, member: Member, chunk: Chunk) -> None:
        if self.finished:
            return
        known = member.id in self._waiting or member.id in (self.expected or {})
        if self.expected is None and not known:
            self._early.append((member, chunk))
            return
        expected_seq = self._next_seq.get(member.id, 0)
        if expected_seq < 0:
            return  # a member whose answer was already given up on
        if not known:
            self.collected.asked.append(member)  # not expected, but welcome
            self._waiting[member.id] = member
        if chunk.seq != expected_seq:
            self._give_up(member, Failure(member, "part of its answer was lost on the way"))
            return
        self._next_seq[member.id] = expected_seq + 1
        self._take(member, chunk)
        if chunk.last or chunk.error is not None:
            self._waiting.pop(member.id, None)
            self._next_seq[member.id] = -1
            self._finish_if_done()

    def gone(self, member_id: str, reason: str) -> None:
        member = self._waiting.get(member_id)
        if member is None or self.finished:
            return
        self._give_up(member, Missing(member, reason))

    def expire(self) -> None:
        """The deadline passed: whoever has not answered is missing."""
        if self.finished:
            return
        if self.expected is None:
            self.collected.missing.append(Missing(None, self.unknown_reason))
        for member in self._waiting.values():
            partly = self._next_seq.get(member.id, 0) > 0
            what = "its answer was not complete" if partly else "no answer"
            self.collected.missing.append(Missing(member, f"{what} within {self.timeout:g}s"))
        self._waiting.clear()
        self.future.set_result(self.collected)

    def _take(self, member: Member, chunk: Chunk) -> None:
        collected = self.collected
        if chunk.error is not None:
            collected.failures.append(Failure(member, chunk.error))
            return
        collected.truncated |= chunk.truncated
        room = self.item_limit - len(collected.items)
        if len(chunk.items) > room:
            collected.truncated = True
        collected.items.extend((member, item) for item in chunk.items[: max(room, 0)])
        if chunk.value is not None:
            collected.values.append((member, chunk.value))

    def _give_up(self, member: Member, why: Missing | Failure) -> None:
        self._waiting.pop(member.id, None)
        self._next_seq[member.id] = -1
        if isinstance(why, Missing):
            self.collected.missing.append(why)
        else:
            self.collected.failures.append(why)
        self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self.expected is not None and not self._waiting and not self.finished:
            self.future.set_result(self.collected)


class PendingRequests:
    """Every request out of one worker, by id (bounded)."""

    def __init__(self, limit: int = MAX_PENDING) -> None:
        self.limit = limit
        self._requests: dict[str, Pending] = {}

    def __len__(self) -> int:
        return len(self._requests)

    def open(self, request_id: str, timeout: float, item_limit: int) -> Pending:
        if len(self._requests) >= self.limit:
            raise ClusterBusy(f"{self.limit} cluster requests are already out from this worker")
        pending = self._requests[request_id] = Pending(request_id, timeout, item_limit)
        return pending

    def get(self, request_id: str) -> Pending | None:
        return self._requests.get(request_id)

    def close(self, request_id: str) -> None:
        """Forget the request (answered, expired or abandoned); late answers are dropped."""
        self._requests.pop(request_id, None)

    def gone(self, member_id: str, reason: str) -> None:
        """A member exited: no request waits for it any more."""
        for pending in list(self._requests.values()):
            pending.gone(member_id, reason)
