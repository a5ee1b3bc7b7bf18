"""Answering another member: bounded chunks, bounded work, nothing after the deadline."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sockd.worker.cluster.answerer import Answerer
from sockd.worker.cluster.chunks import MAX_BYTES, MAX_ITEMS, chunks
from sockd.worker.cluster.local import LocalAnswer, OpError
from sockd.worker.cluster.query import Query
from tests.unit.clocks import advance, run_shifted


def test_a_large_answer_is_cut_into_numbered_bounded_chunks_the_last_one_flagged() -> None:
    items = [json.dumps({"id": n, "pad": "x" * 300}) for n in range(5000)]
    bodies = list(chunks("r", LocalAnswer(items=items, truncated=True)))
    decoded = [json.loads(body) for body in bodies]
    assert [chunk["seq"] for chunk in decoded] == list(range(len(bodies)))
    assert [chunk["last"] for chunk in decoded] == [False] * (len(bodies) - 1) + [True]
    assert all(len(body) <= MAX_BYTES + 1024 for body in bodies)
    assert all(len(chunk["items"]) <= MAX_ITEMS for chunk in decoded)
    assert [item["id"] for chunk in decoded for item in chunk["items"]] == list(range(5000))
    assert decoded[-1]["truncated"] and decoded[-1]["id"] == "r"


def test_a_value_answer_is_one_chunk() -> None:
    [body] = chunks("r", LocalAnswer(value={"lobby": 3}))
    assert json.loads(body) == {
        "id": "r",
        "seq": 0,
        "last": True,
        "truncated": False,
        "value": {"lobby": 3},
        "items": [],
    }


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, member_id: str, body: str) -> None:
        self.sent.append((member_id, json.loads(body)))


def request(op: str, expires_in: float = 5.0, **args: Any) -> dict[str, Any]:
    return Query(op, args=args).body("r1", time.time() + expires_in)


def test_an_answer_or_an_error_goes_back_to_the_member_that_asked() -> None:
    async def value(sio: Any, query: Query) -> LocalAnswer:
        return LocalAnswer(value=query.args["n"] * 2)

    async def refuse(sio: Any, query: Query) -> LocalAnswer:
        raise OpError("unknown namespace '/x'")

    async def bug(sio: Any, query: Query) -> LocalAnswer:
        raise KeyError("oops")

    async def scenario() -> None:
        sent = Recorder()
        answerer = Answerer(None, {"value": value, "refuse": refuse, "bug": bug}, sent)
        answerer.handle(request("value", n=21), "m9")
        answerer.handle(json.dumps(request("refuse")).encode(), "m9")
        answerer.handle(request("bug"), "m8")
        answerer.handle(request("nonesuch"), "m8")
        await advance(0)
        errors = {body.get("error") for _, body in sent.sent}
        assert ("m9", 42) in [(member, body.get("value")) for member, body in sent.sent]
        assert errors >= {
            "unknown namespace '/x'",
            "KeyError: 'oops'",
            "unknown operation 'nonesuch'",
        }

    run_shifted(scenario())


def test_a_request_read_after_its_deadline_or_malformed_is_dropped_unanswered() -> None:
    async def scenario() -> None:
        sent = Recorder()
        answerer = Answerer(None, {}, sent)
        answerer.handle(request("value", expires_in=-1.0), "m9")
        answerer.handle(b"not json", "m9")
        answerer.handle({"op": "value"}, "m9")  # no id, no deadline
        await advance(0)
        assert sent.sent == [] and answerer.answering == 0

    run_shifted(scenario())


def test_work_still_running_at_the_deadline_is_cancelled_and_not_answered() -> None:
    started = []

    async def slow(sio: Any, query: Query) -> LocalAnswer:
        started.append(True)
        await asyncio.sleep(3600)
        return LocalAnswer(value=1)

    async def scenario() -> None:
        sent = Recorder()
        answerer = Answerer(None, {"slow": slow}, sent)
        answerer.handle(request("slow", expires_in=2.0), "m9")
        await advance(0)
        assert started and answerer.answering == 1
        await advance(2.5)
        await advance(0)  # the cancelled task ends, and says so
        assert answerer.answering == 0 and sent.sent == []

    run_shifted(scenario())


def test_requests_beyond_the_bound_are_answered_busy_at_once() -> None:
    async def slow(sio: Any, query: Query) -> LocalAnswer:
        await asyncio.sleep(3600)
        return LocalAnswer()

    async def scenario() -> None:
        sent = Recorder()
        answerer = Answerer(None, {"slow": slow}, sent, limit=2)
        for _ in range(3):
            answerer.handle(request("slow"), "m9")
        await advance(0)
        assert answerer.answering == 2
        assert [body["error"] for _, body in sent.sent] == ["busy: 2 requests are being answered"]
        await advance(6.0)
        await advance(0)
        assert answerer.answering == 0

    run_shifted(scenario())
