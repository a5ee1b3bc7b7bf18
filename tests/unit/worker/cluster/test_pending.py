"""The requests out: who must answer, chunks in order, members gone, the deadline, bounds.

A request is finished exactly when every member it expects has sent its last chunk, or
one is gone, or the deadline passed; what it returns always says who did not answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from sockd.worker.cluster.members import Failure, Member, Missing
from sockd.worker.cluster.pending import Chunk, Pending, PendingRequests
from sockd.worker.cluster.results import ClusterBusy

ME = Member("1", 1, 0)
A = Member("2", 2, 1)
B = Member("3", 3, 2)


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def chunk(seq: int, last: bool, *items: Any, **fields: Any) -> Chunk:
    return Chunk(seq, last, items=list(items), **fields)


def test_a_request_finishes_when_every_expected_member_sent_its_last_chunk() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect([A, B])
        pending.answer(A, chunk(0, False, "a1"))
        pending.answer(A, chunk(1, True, "a2"))
        assert not pending.finished, "B has not answered"
        pending.answer(B, chunk(0, True, "b1"))
        collected = await pending.future
        assert collected.items == [(A, "a1"), (A, "a2"), (B, "b1")]
        assert collected.asked == [A, B] and collected.missing == [] and not collected.truncated

    run(scenario)


def test_no_member_to_ask_finishes_at_once_with_this_workers_own_answer() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect_own(ME)
        pending.expect([])
        assert not pending.finished, "its own answer is still to come"
        pending.answer(ME, chunk(0, True, "mine"))
        assert (await pending.future).items == [(ME, "mine")]

    run(scenario)


def test_answers_before_the_master_named_the_members_are_kept_for_then() -> None:
    """Its own answer, or another's, may come before the list of who was asked."""

    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect_own(ME)
        pending.answer(ME, chunk(0, True, "mine"))
        pending.answer(A, chunk(0, True, "a"))
        assert not pending.finished
        pending.expect([A])
        collected = await pending.future
        assert sorted(item for _, item in collected.items) == ["a", "mine"]
        assert collected.asked == [ME, A]

    run(scenario)


def test_at_the_deadline_whoever_did_not_answer_is_missing_with_the_reason() -> None:
    async def scenario() -> None:
        pending = Pending("r", 2.5, 100)
        pending.expect([A, B])
        pending.answer(A, chunk(0, False, "a1"))
        pending.expire()
        collected = await pending.future
        assert collected.items == [(A, "a1")]
        assert collected.missing == [
            Missing(A, "its answer was not complete within 2.5s"),
            Missing(B, "no answer within 2.5s"),
        ]
        pending.answer(B, chunk(0, True, "late"))  # after the deadline: dropped
        assert collected.items == [(A, "a1")]

    run(scenario)


def test_never_knowing_who_was_asked_is_said_at_the_deadline() -> None:
    async def scenario() -> None:
        pending = Pending("r", 1.0, 100)
        pending.unknown_reason = "the master did not say which workers it asked"
        pending.expire()
        collected = await pending.future
        assert collected.missing == [Missing(None, "the master did not say which workers it asked")]
        assert str(collected.missing[0]).startswith("the other members: ")

    run(scenario)


def test_an_unreachable_bus_finishes_at_once_with_only_this_workers_answer() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect_own(ME)
        pending.unreachable("Redis unreachable, not asked: Connection refused")
        pending.answer(ME, chunk(0, True, "mine"))
        collected = await pending.future
        assert collected.items == [(ME, "mine")]
        reason = "Redis unreachable, not asked: Connection refused"
        assert collected.missing == [Missing(None, reason)]

    run(scenario)


def test_a_member_that_exits_is_missing_at_once_and_the_others_still_count() -> None:
    async def scenario() -> None:
        requests = PendingRequests()
        first = requests.open("r1", 30.0, 100)
        second = requests.open("r2", 30.0, 100)
        first.expect([A, B])
        second.expect([B])
        first.answer(B, chunk(0, True, "b"))
        requests.gone(A.id, "exited while the request was out")
        assert first.finished, "B answered, A is gone: nothing is left to wait for"
        assert (await first.future).missing == [Missing(A, "exited while the request was out")]
        assert not second.finished, "A was not asked there"

    run(scenario)


def test_an_error_answer_is_a_failure_naming_the_member() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect([A, B])
        pending.answer(A, Chunk(0, True, error="RuntimeError: boom"))
        pending.answer(B, Chunk(0, True, value=7))
        collected = await pending.future
        assert collected.failures == [Failure(A, "RuntimeError: boom")]
        assert collected.values == [(B, 7)]

    run(scenario)


def test_a_lost_chunk_is_a_failure_and_the_rest_of_that_answer_is_dropped() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect([A])
        pending.answer(A, chunk(0, False, "a0"))
        pending.answer(A, chunk(2, True, "a2"))  # chunk 1 never came
        collected = await pending.future
        assert collected.items == [(A, "a0")]
        assert collected.failures == [Failure(A, "part of its answer was lost on the way")]

    run(scenario)


def test_items_beyond_the_limit_are_dropped_and_the_result_says_truncated() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 3)
        pending.expect([A, B])
        pending.answer(A, chunk(0, True, 1, 2))
        pending.answer(B, chunk(0, True, 3, 4, 5))
        collected = await pending.future
        assert [item for _, item in collected.items] == [1, 2, 3]
        assert collected.truncated

    run(scenario)


def test_an_answerer_that_cut_its_own_answer_makes_the_result_truncated() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect([A])
        pending.answer(A, chunk(0, True, 1, truncated=True))
        assert (await pending.future).truncated

    run(scenario)


def test_a_member_not_expected_is_welcome_and_waited_for_until_its_last_chunk() -> None:
    """Over Redis a member that announced itself just after the request was read may
    still answer: its answer counts, in full."""

    async def scenario() -> None:
        pending = Pending("r", 5.0, 100)
        pending.expect([A])
        pending.answer(A, chunk(0, True, "a"))
        assert pending.finished
        other = Pending("s", 5.0, 100)
        other.expect([A])
        other.answer(B, chunk(0, False, "b0"))
        other.answer(A, chunk(0, True, "a"))
        assert not other.finished, "B's answer is half in"
        other.answer(B, chunk(1, True, "b1"))
        assert [item for _, item in (await other.future).items] == ["b0", "a", "b1"]
        assert (await other.future).asked == [A, B]

    run(scenario)


def test_requests_out_are_bounded_and_forgotten_when_closed() -> None:
    async def scenario() -> None:
        requests = PendingRequests(limit=2)
        requests.open("r1", 5.0, 10)
        requests.open("r2", 5.0, 10)
        with pytest.raises(ClusterBusy, match="2 cluster requests are already out"):
            requests.open("r3", 5.0, 10)
        requests.close("r1")
        requests.close("r1")  # twice is harmless
        requests.open("r3", 5.0, 10)
        assert len(requests) == 2 and requests.get("r1") is None

    run(scenario)


def test_a_cancelled_caller_leaves_nothing_that_later_answers_could_trip_on() -> None:
    async def scenario() -> None:
        pending = Pending("r", 5.0, 10)
        pending.expect([A])
        pending.future.cancel()
        pending.answer(A, chunk(0, True, "late"))
        pending.expire()
        pending.gone(A.id, "exited")
        assert pending.future.cancelled()

    run(scenario)
