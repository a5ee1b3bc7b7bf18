"""The health answer: 200 while a worker serves, 503 at boot, while stopping, without a
ready worker, and with --redis while no serving worker's bus reaches Redis."""

from __future__ import annotations

import asyncio
import json

from sockd.supervisor.lifecycle.worker_state import Worker
from sockd.supervisor.observe.health import HealthAnswer, assess
from tests.unit.supervisor.fake_worker import FakeWorker


def workers(*bus_states: str | None, ready: bool = True) -> dict[int, Worker]:
    current: dict[int, Worker] = {}
    for slot, state in enumerate(bus_states):
        worker = FakeWorker(slot)
        if ready:
            worker.mark_ready()
        if state is not None:
            worker.stats = {"bus": {"state": state}}
        current[slot] = worker
    return current


def answer(current: dict[int, Worker], booted: bool = True, stopping: bool = False,
           redis: bool = False) -> HealthAnswer:  # fmt: skip
    return assess(current, len(current), booted, stopping, redis)


def test_the_answer_follows_the_workers_and_the_stop() -> None:
    async def scenario() -> list[tuple[int, str]]:
        answers = [
            answer(workers(None, None, ready=False), booted=False),
            answer(workers(None, None), booted=False),  # one is ready: not all yet
            answer(workers(None, None)),
            answer(workers(None, None), stopping=True),
            answer(workers(None, ready=False)),
        ]
        return [(a.code, a.status) for a in answers]

    assert asyncio.run(scenario()) == [
        (503, "starting"), (503, "starting"), (200, "serving"), (503, "stopping"),
        (503, "no worker ready"),
    ]  # fmt: skip


def test_with_redis_a_host_whose_buses_are_all_degraded_is_not_healthy() -> None:
    async def scenario() -> list[HealthAnswer]:
        return [
            answer(workers("degraded", "degraded"), redis=True),
            answer(workers("degraded", "connected"), redis=True),
            answer(workers("connected", "connected")),
        ]

    def stateless(current: dict[int, Worker]) -> dict[int, Worker]:
        for worker in current.values():
            worker.stats = {"bus": {"published": 3, "received": 4}}
        return current

    async def without_state() -> HealthAnswer:
        return answer(stateless(workers(None, None)), redis=True)

    unknown = asyncio.run(without_state())
    assert (unknown.code, unknown.bus) == (200, {}), "a bus that reports no state is not judged"

    down, partly, ipc = asyncio.run(scenario())
    assert (down.code, down.status) == (503, "redis unreachable")
    assert json.loads(down.body()) == {
        "status": "redis unreachable", "ready_workers": 2, "workers": 2,
        "bus": {"0": "degraded", "1": "degraded"},
    }  # fmt: skip
    assert partly.code == 200, "one worker still reaches Redis: the host serves"
    assert ipc.code == 200
