"""The master's relay of cluster requests, on fake workers: who is asked (and the requester
told so in the same turn), answers to the requester alone, exits announced, and the
status census asked of one worker within a bound."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from sockd.supervisor.lifecycle.cluster_relay import CENSUS_MARGIN, CENSUS_TIMEOUT, ClusterRelay
from sockd.supervisor.lifecycle.worker_state import WorkerState
from sockd.wire.cluster_frames import routed, split_routed
from sockd.wire.frames import FrameDecoder, Kind
from tests.unit.clocks import advance, run_shifted
from tests.unit.supervisor.fake_worker import FakeWorker


def frames(worker: FakeWorker) -> list[tuple[Kind, bytes]]:
    decoded = FrameDecoder().feed(b"".join(worker.sent))
    worker.sent.clear()
    return decoded


def workers(*states: WorkerState) -> list[FakeWorker]:
    made = []
    for slot, state in enumerate(states):
        worker = FakeWorker(slot)
        worker.state = state
        made.append(worker)
    return made


def test_a_request_goes_to_every_other_serving_worker_and_the_requester_hears_which() -> None:
    async def scenario() -> None:
        asker, ready, draining, starting = workers(
            WorkerState.READY, WorkerState.READY, WorkerState.DRAINING, WorkerState.STARTING
        )
        relay = ClusterRelay(lambda: [asker, ready, draining, starting])
        relay.on_frame(asker, Kind.CLUSTER_REQUEST, routed({"id": "r1", "to": None}, b"BODY"))
        for worker in (ready, draining):
            [(kind, payload)] = frames(worker)
            assert kind is Kind.CLUSTER_REQUEST
            assert split_routed(payload) == ({"id": "r1", "from": asker.pid, "slot": 0}, b"BODY")
        assert frames(starting) == [], "a starting worker has no sockets yet"
        [(kind, payload)] = frames(asker)
        assert kind is Kind.CLUSTER_SENT
        assert json.loads(payload) == {
            "id": "r1",
            "members": [[1, ready.pid], [2, draining.pid]],
        }

    run_shifted(scenario())


def test_a_request_for_one_worker_goes_to_that_one_alone() -> None:
    async def scenario() -> None:
        asker, first, second = workers(WorkerState.READY, WorkerState.READY, WorkerState.READY)
        relay = ClusterRelay(lambda: [asker, first, second])
        relay.on_frame(asker, Kind.CLUSTER_REQUEST, routed({"id": "r", "to": second.pid}, b"{}"))
        assert frames(first) == []
        assert len(frames(second)) == 1
        [(_, payload)] = frames(asker)
        assert json.loads(payload)["members"] == [[2, second.pid]]
        gone_pid = 999_999  # no such worker: nobody is asked, and the requester knows at once
        relay.on_frame(asker, Kind.CLUSTER_REQUEST, routed({"id": "s", "to": gone_pid}, b"{}"))
        assert json.loads(frames(asker)[0][1])["members"] == []

    run_shifted(scenario())


def test_answers_go_to_the_requester_alone_named_by_their_sender() -> None:
    async def scenario() -> None:
        asker, answerer, other = workers(WorkerState.READY, WorkerState.READY, WorkerState.READY)
        relay = ClusterRelay(lambda: [asker, answerer, other])
        relay.on_frame(answerer, Kind.CLUSTER_ANSWER, routed({"to": asker.pid}, b"CHUNK"))
        [(kind, payload)] = frames(asker)
        assert kind is Kind.CLUSTER_ANSWER
        assert split_routed(payload) == ({"from": answerer.pid, "slot": 1}, b"CHUNK")
        assert frames(other) == []
        asker.state = WorkerState.EXITED
        relay.on_frame(answerer, Kind.CLUSTER_ANSWER, routed({"to": asker.pid}, b"LATE"))
        assert frames(asker) == [], "the requester exited: its answers are dropped"

    run_shifted(scenario())


def test_an_exited_worker_is_announced_to_every_other_serving_worker() -> None:
    async def scenario() -> None:
        gone, ready, draining = workers(WorkerState.EXITED, WorkerState.READY, WorkerState.DRAINING)
        relay = ClusterRelay(lambda: [gone, ready, draining])
        relay.worker_gone(gone)
        for worker in (ready, draining):
            assert frames(worker) == [(Kind.CLUSTER_GONE, b'{"slot":0,"pid":%d}' % gone.pid)]

    run_shifted(scenario())


def test_a_malformed_frame_is_dropped() -> None:
    async def scenario() -> None:
        asker, other = workers(WorkerState.READY, WorkerState.READY)
        relay = ClusterRelay(lambda: [asker, other])
        relay.on_frame(asker, Kind.CLUSTER_REQUEST, b"no routing line at all")
        relay.on_frame(asker, Kind.CLUSTER_REQUEST, b"[1,2]\n{}")
        assert frames(asker) == [] and frames(other) == []

    run_shifted(scenario())


def _census_request(worker: FakeWorker) -> dict[str, Any]:
    [(kind, payload)] = frames(worker)
    assert kind is Kind.CLUSTER_REQUEST
    routing, body = split_routed(payload)
    assert routing["from"] == os.getpid()
    return dict(json.loads(body))


def test_the_census_asks_one_ready_worker_and_returns_its_answer() -> None:
    async def scenario() -> None:
        draining, ready = workers(WorkerState.DRAINING, WorkerState.READY)
        relay = ClusterRelay(lambda: [draining, ready])
        census = asyncio_task(relay.census())
        await advance(0)
        request = _census_request(ready)
        assert request["op"] == "status" and frames(draining) == []
        answer = {"id": request["id"], "seq": 0, "last": True, "value": {"namespaces": []}}
        relay.on_frame(ready, Kind.CLUSTER_ANSWER, routed({"to": os.getpid()}, _json(answer)))
        assert await census == {"namespaces": []}

    run_shifted(scenario())


def test_the_census_is_bounded_in_time_and_says_who_did_not_answer() -> None:
    async def scenario() -> None:
        (ready,) = workers(WorkerState.READY)
        relay = ClusterRelay(lambda: [ready])
        census = asyncio_task(relay.census())
        await advance(0)  # it asks, and waits
        await advance(CENSUS_TIMEOUT + CENSUS_MARGIN + 0.1)
        assert await census == {"error": f"worker 0 (pid {ready.pid}) did not answer in time"}
        assert await ClusterRelay(lambda: []).census() == {"error": "no worker is ready"}

    run_shifted(scenario())


def asyncio_task(coroutine: Any) -> asyncio.Task[Any]:
    return asyncio.get_running_loop().create_task(coroutine)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def test_the_census_ends_at_once_when_the_asked_worker_exits() -> None:
    async def scenario() -> None:
        (ready,) = workers(WorkerState.READY)
        relay = ClusterRelay(lambda: [ready])
        census = asyncio_task(relay.census())
        await advance(0)
        ready.state = WorkerState.EXITED
        relay.worker_gone(ready)
        assert await census == {"error": f"worker 0 (pid {ready.pid}) exited"}

    run_shifted(scenario())
