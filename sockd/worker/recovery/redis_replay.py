"""What a restored session missed, read from the Redis stream (``--redis``).

The stream is the log: stored packets are entries of it (``streams_bus.py``) and their ids
are the offsets clients hold. A replay after offset ``o`` is complete only if the stream
never dropped an entry after ``o``: Redis 7 says what it dropped last
(``max-deleted-entry-id``); before 7, the oldest entry still there must be at or before
``o`` (Node's rule: the offset must be in the stream). Then the entries after ``o`` up to
the stream's last id when the replay began are read in chunks, and the stored ones the
session's rooms match are kept, each once (a publish sent again after a lost reply is an
entry twice, with one publisher number), with the offset as their last argument. More than
the bound is a fresh session, never part of the missed packets.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from sockd.wire.recovery import with_offset
from sockd.worker.bus.redis_clients import BusClient
from sockd.worker.recovery.delivery import Order, Packets, packets_of

#: Entries one XRANGE reads.
CHUNK = 1000
#: Entries a replay reads at most, whatever they hold (the stream's MAXLEN bounds it too).
MAX_SCANNED = 200_000
_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
#: How a stored packet's message starts (``streams_bus.py`` writes it so).
STORED = "sockd-stored"
STORED_PREFIX = b'{"method":"' + STORED.encode() + b'",'


def stream_order(entry_id: str | bytes) -> Order:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)


def valid_id(offset: str) -> bool:
    return _ID.fullmatch(offset) is not None


@dataclass(frozen=True)
class Session:
    namespace: str
    sid: str
    rooms: frozenset[Any]


@dataclass
class Replay:
    missed: list[Packets]
    #: The stream's last id when the replay began: what it covers.
    position: str


def stored_message(fields: dict[bytes, bytes]) -> dict[str, Any] | None:
    """A stream entry's stored packet, or None for any other entry."""
    message = fields.get(b"m", b"")
    if not message.startswith(STORED_PREFIX):
        return None
    decoded = json.loads(message)
    return decoded if isinstance(decoded, dict) else None


def reaches(message: dict[str, Any], session: Session) -> bool:
    rooms = message.get("r")
    targeted = rooms is None or not session.rooms.isdisjoint(rooms)
    return targeted and message["n"] == session.namespace and session.sid not in message["x"]


def entry_packets(entry_id: str, message: dict[str, Any]) -> Packets:
    text = with_offset(message["p"].encode(), entry_id)
    return packets_of(text, [bytes.fromhex(blob) for blob in message.get("a", [])])


async def replay(
    client: BusClient, stream: str, session: Session, after: str, bound: int
) -> Replay | str:
    """The packets ``session`` missed after ``after``, or why it cannot have them."""
    try:
        info: dict[Any, Any] = await client.xinfo_stream(stream)
    except ResponseError as exc:
        if "no such key" not in str(exc).lower():
            raise
        return Replay([], after)  # no stream: nothing was stored since
    last = _text(info["last-generated-id"])
    if not valid_id(after) or stream_order(after) > stream_order(last):
        return "an offset this stream never gave"
    deleted = info.get("max-deleted-entry-id")
    first = info.get("first-entry")
    if deleted is not None:
        if stream_order(_text(deleted)) > stream_order(after):
            return "packets it missed were trimmed from the stream"
    elif first and stream_order(_text(first[0])) > stream_order(after):
        return "packets it missed were trimmed from the stream"
    return await _read(client, stream, session, after, last, bound)


async def _read(
    client: BusClient, stream: str, session: Session, after: str, last: str, bound: int
) -> Replay | str:
    seen: set[tuple[Any, Any]] = set()
    for _, fields in await client.xrange(stream, min=after, max=after) or []:
        seen.add(_copy(fields))  # the client had this one
    missed: list[Packets] = []
    cursor, scanned = after, 0
    while stream_order(cursor) < stream_order(last):
        entries = await client.xrange(stream, min=f"({cursor}", max=last, count=CHUNK)
        if not entries:
            break
        for raw_id, fields in entries:
            cursor = _text(raw_id)
            message = stored_message(fields or {})  # type: ignore[arg-type]
            copy = _copy(fields)
            if message is None or copy in seen:
                continue
            seen.add(copy)
            if reaches(message, session):
                missed.append(entry_packets(cursor, message))
                if len(missed) > bound:
                    return "it missed too many packets"
        scanned += len(entries)
        if scanned > MAX_SCANNED:
            return "too much to read back"
    return Replay(missed, last)


def _copy(fields: Any) -> tuple[Any, Any]:
    """Which publish an entry is (its publisher and number): a resend is the same."""
    fields = fields or {}
    return fields.get(b"h"), fields.get(b"s")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
