"""The answer to a load balancer's health check: whether to send this host new clients.

503 until every slot's first worker is ready (a balancer that sent clients earlier would
have them wait in the master's queue), then 200 while at least one worker serves (the
clients of a slot whose worker restarts go to the next slot); 503 while none is ready, from
the moment the master stops (its workers drain: new clients would be refused), and, with
``--redis``, while no serving worker's bus reaches Redis (a host cut off from Redis would
serve rooms and broadcasts of its own only). The body says why, in a
few fields: ``status``, ``ready_workers``, ``workers``, and each serving worker's bus.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState

SERVING = "serving"


@dataclass(frozen=True)
class HealthAnswer:
    status: str
    ready_workers: int
    workers: int
    #: slot -> the bus state its serving worker reports (``connected``, ``degraded``).
    bus: dict[str, str]

    @property
    def healthy(self) -> bool:
        return self.status == SERVING

    @property
    def code(self) -> int:
        return 200 if self.healthy else 503

    def body(self) -> bytes:
        fields: dict[str, Any] = {
            "status": self.status,
            "ready_workers": self.ready_workers,
            "workers": self.workers,
        }
        if self.bus:
            fields["bus"] = self.bus
        return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def assess(
    current: Mapping[int, Worker], slot_count: int, booted: bool, stopping: bool, redis: bool
) -> HealthAnswer:
    """The answer for the slots' current workers (``current``: the slot table's)."""
    ready = [w for w in current.values() if w.state is WorkerState.READY]
    bus = {str(w.slot): str(w.stats["bus"].get("state")) for w in ready if _has_bus(w)}
    if stopping:
        status = "stopping"
    elif not booted:
        status = "starting"
    elif not ready:
        status = "no worker ready"
    elif redis and bus and "connected" not in bus.values():
        status = "redis unreachable"
    else:
        status = SERVING
    return HealthAnswer(status, len(ready), slot_count, dict(sorted(bus.items())))


def _has_bus(worker: Worker) -> bool:
    """Whether the worker reports its bus's state (a bus of the app's own does not)."""
    bus = worker.stats.get("bus")
    return isinstance(bus, dict) and "state" in bus


class Health:
    """The master's health, from its slot table and whether it stops."""

    def __init__(
        self,
        current: Callable[[], Mapping[int, Worker]],
        slot_count: Callable[[], int],
        booted: Callable[[], bool],
        stopping: Callable[[], bool],
        redis: Callable[[], bool],
    ) -> None:
        self._current = current
        self._slot_count = slot_count
        self._booted = booted
        self._stopping = stopping
        self._redis = redis

    def answer(self) -> HealthAnswer:
        return assess(
            self._current(), self._slot_count(), self._booted(), self._stopping(), self._redis()
        )
