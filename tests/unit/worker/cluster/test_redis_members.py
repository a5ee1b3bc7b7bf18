"""Who a Redis requester expects: members whose announcement has not lapsed, kept while
Redis forgets them (restarted without its data), dropped when they lapse or leave."""

from __future__ import annotations

import json
from typing import Any

from sockd.worker.cluster.members import Member
from sockd.worker.cluster.redis_members import MEMBER_TTL, RedisMembers

ME = Member("me", 1, 0, "h1")
A = Member("a", 2, 1, "h1")
B = Member("b", 3, 0, "h2")


def entry(member: Member, lapses_at: float) -> tuple[bytes, float]:
    return json.dumps(member.to_json(), sort_keys=True).encode(), lapses_at * 1000


def members() -> RedisMembers:
    return RedisMembers(client=None, channel="socketio", me=ME)  # type: ignore[arg-type]


def test_members_alive_are_expected_and_lapsed_or_departed_ones_are_not() -> None:
    known = members()
    whole = known.read([entry(ME, 106), entry(A, 105), entry(B, 99)], now=100)
    assert whole and known.alive(100) == [A], "B's announcement lapsed"
    known.read([entry(ME, 108), entry(A, 100)], now=101)  # A left: scored "now"
    assert known.alive(101) == []


def test_members_redis_forgot_are_still_expected_until_their_announcement_lapses() -> None:
    known = members()
    known.read([entry(ME, 106), entry(A, 100 + MEMBER_TTL)], now=100)
    whole = known.read([], now=101)  # Redis restarted empty
    assert not whole, "this member's own entry is gone too: the list is not whole"
    assert known.alive(101) == [A]
    assert known.alive(100 + MEMBER_TTL + 0.1) == [], "not renewed in time: gone"


def test_entries_that_are_not_members_are_ignored() -> None:
    known = members()
    garbage: list[Any] = [(b"not json", 200_000.0), (b'{"id": "x"}', 200_000.0)]
    assert known.read([*garbage, entry(ME, 150)], now=100)
    assert known.alive(100) == []
