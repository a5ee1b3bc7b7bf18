"""What a cluster request asks, as it crosses the bus.

The body is one JSON object: the request id, the operation, the namespace, the rooms it
selects (none: every socket of the namespace) and those it leaves out, the operation's
arguments, how many items an answer may hold, and when the request expires (a wall-clock
time, so an answerer that reads it late, after a Redis outage say, drops it unanswered).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

#: Items (sockets, rooms) one call returns at most, unless it says otherwise.
DEFAULT_LIMIT = 100_000


@dataclass(frozen=True)
class Query:
    op: str
    namespace: str = "/"
    rooms: tuple[str, ...] = ()
    except_rooms: tuple[str, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    #: The one member to ask (its id), or None: every other member.
    to: str | None = None

    def body(self, request_id: str, expires: float) -> dict[str, Any]:
        return {
            "id": request_id,
            "op": self.op,
            "ns": self.namespace,
            "rooms": list(self.rooms),
            "except": list(self.except_rooms),
            "args": self.args,
            "limit": self.limit,
            "to": self.to,
            "expires": expires,
        }


@dataclass(frozen=True)
class Received:
    """A request as an answerer reads it."""

    id: str
    query: Query
    expires: float

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires

    @classmethod
    def from_body(cls, body: Any) -> Received:
        """Raises ValueError (or KeyError, TypeError) on a malformed body."""
        if not isinstance(body, dict):
            raise ValueError("a request is a JSON object")
        args = body.get("args") or {}
        if not isinstance(args, dict):
            raise ValueError("a request's args are a JSON object")
        query = Query(
            op=str(body["op"]),
            namespace=str(body.get("ns") or "/"),
            rooms=tuple(str(room) for room in body.get("rooms") or ()),
            except_rooms=tuple(str(room) for room in body.get("except") or ()),
            args=args,
            limit=int(body.get("limit") or DEFAULT_LIMIT),
            to=body.get("to"),
        )
        return cls(str(body["id"]), query, float(body["expires"]))
