"""The master's part in cluster requests (``sockd.cluster``) over the IPC bus.

A worker's request goes to every other worker that serves (ready or draining), or to the
one it names; in the same turn the master tells the requester which workers it went to,
so the requester knows who must answer. Answers are relayed to the requester alone. When
a worker exits, every serving worker hears of it, so a requester stops waiting for it at
once rather than at its deadline. The master reads only the routing line of each frame.

The master asks too: ``sockd status`` has one worker gather the cluster's sockets and
rooms per namespace (``census``), bounded in time, so the answer stays fast.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.wire.cluster_frames import encode_routed, split_routed
from sockd.wire.frames import FrameError, Kind, encode_json_frame

log = logging.getLogger("sockd.master")

SERVING = (WorkerState.READY, WorkerState.DRAINING)
#: Seconds the asked worker has to gather the census, and the master's own bound on top.
CENSUS_TIMEOUT, CENSUS_MARGIN = 1.0, 0.5
#: ``sockd status`` calls answered at once; more wait for none and say so.
MAX_CENSUS = 8


class ClusterRelay:
    """Routes cluster requests and answers between workers; asks one for the census."""

    def __init__(self, workers: Callable[[], Iterable[Worker]]) -> None:
        self._workers = workers
        #: Census requests out: the asked worker's pid, and where its answer goes.
        self._census: dict[str, tuple[int, asyncio.Future[dict[str, Any]]]] = {}

    def on_frame(self, sender: Worker, kind: Kind, payload: bytes) -> None:
        try:
            routing, body = split_routed(payload)
        except FrameError as exc:
            log.error("worker %d (pid %d): %s", sender.slot, sender.pid, exc)
            return
        if kind is Kind.CLUSTER_REQUEST:
            self._relay_request(sender, routing, body)
        elif kind is Kind.CLUSTER_ANSWER:
            self._relay_answer(sender, routing, body)

    def worker_gone(self, gone: Worker) -> None:
        """Tell every serving worker that ``gone`` will not answer."""
        frame = encode_json_frame(Kind.CLUSTER_GONE, {"slot": gone.slot, "pid": gone.pid})
        for worker in self._serving():
            if worker is not gone:
                worker.send(frame)
        for pid, answered in self._census.values():
            if pid == gone.pid and not answered.done():
                answered.set_result({"error": f"worker {gone.slot} (pid {pid}) exited"})

    async def census(self) -> dict[str, Any]:
        """The cluster's sockets and rooms per namespace, as one worker gathered them."""
        asked = next((w for w in self._serving() if w.state is WorkerState.READY), None)
        if asked is None:
            return {"error": "no worker is ready"}
        if len(self._census) >= MAX_CENSUS:
            return {"error": "too many status requests at once"}
        request_id = secrets.token_hex(8)
        answered = asyncio.get_running_loop().create_future()
        self._census[request_id] = (asked.pid, answered)
        body = {
            "id": request_id,
            "op": "status",
            "args": {"timeout": CENSUS_TIMEOUT},
            "expires": time.time() + CENSUS_TIMEOUT,
        }
        routing = {"id": request_id, "from": os.getpid(), "slot": None}
        asked.send(encode_routed(Kind.CLUSTER_REQUEST, routing, json.dumps(body).encode()))
        try:
            return await asyncio.wait_for(answered, CENSUS_TIMEOUT + CENSUS_MARGIN)
        except TimeoutError:
            return {"error": f"worker {asked.slot} (pid {asked.pid}) did not answer in time"}
        finally:
            self._census.pop(request_id, None)

    def _serving(self) -> list[Worker]:
        return [worker for worker in self._workers() if worker.state in SERVING]

    def _relay_request(self, sender: Worker, routing: dict[str, Any], body: bytes) -> None:
        target = routing.get("to")
        asked = [
            worker
            for worker in self._serving()
            if worker is not sender and (target is None or worker.pid == target)
        ]
        relayed = {"id": routing.get("id"), "from": sender.pid, "slot": sender.slot}
        frame = encode_routed(Kind.CLUSTER_REQUEST, relayed, body)
        for worker in asked:
            worker.send(frame)
        sent = {"id": routing.get("id"), "members": [[w.slot, w.pid] for w in asked]}
        sender.send(encode_json_frame(Kind.CLUSTER_SENT, sent))

    def _relay_answer(self, sender: Worker, routing: dict[str, Any], body: bytes) -> None:
        requester = routing.get("to")
        if requester == os.getpid():
            self._census_answered(body)
            return
        relayed = {"from": sender.pid, "slot": sender.slot}
        for worker in self._workers():  # a starting worker may ask too (app startup code)
            if worker.pid == requester and worker.state is not WorkerState.EXITED:
                worker.send(encode_routed(Kind.CLUSTER_ANSWER, relayed, body))
                return  # a requester that exited meanwhile gets nothing: it is gone

    def _census_answered(self, body: bytes) -> None:
        try:
            answer = json.loads(body)
            _, answered = self._census[answer["id"]]
        except KeyError:
            return  # too late: status answered without it
        except (ValueError, TypeError):
            log.error("a malformed census answer")
            return
        if answered.done():
            return  # too late: status answered without it
        if answer.get("error"):
            answered.set_result({"error": str(answer["error"])})
        else:
            answered.set_result(answer.get("value") or {})
