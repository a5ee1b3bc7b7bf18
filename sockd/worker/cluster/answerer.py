"""Answering the other members' requests, each in a task of its own, bounded.

A request read after its deadline is dropped (its requester has stopped waiting); one
that arrives while ``MAX_ANSWERING`` are being answered is answered "busy" at once; an
answer still being made at the deadline is cancelled. An operation's error, or a bug,
is answered as an error, so the requester can say which member failed and why.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import socketio

from sockd.worker.cluster.chunks import chunks, error_chunk
from sockd.worker.cluster.local import LocalAnswer, Op, OpError
from sockd.worker.cluster.query import Received

log = logging.getLogger("sockd.cluster")

#: Requests answered at once by one worker; one more is answered "busy".
MAX_ANSWERING = 128

#: Sends one chunk body to a requester (by member id); never waits.
SendAnswer = Callable[[str, str], None]


class Answerer:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        ops: dict[str, Op],
        send: SendAnswer,
        limit: int = MAX_ANSWERING,
    ) -> None:
        self._sio = sio
        self._ops = ops
        self._send = send
        self._limit = limit
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def answering(self) -> int:
        return len(self._tasks)

    def handle(self, body: Any, reply_to: str) -> None:
        """One request another member sent (its JSON body, as bytes or parsed)."""
        try:
            request = Received.from_body(json.loads(body) if isinstance(body, bytes) else body)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("a malformed cluster request from %s: %s", reply_to, exc)
            return
        if request.expired:
            log.debug("cluster request %s from %s read after its deadline", request.id, reply_to)
            return
        op = self._ops.get(request.query.op)
        if op is None:
            self._send(reply_to, error_chunk(request.id, f"unknown operation {request.query.op!r}"))
            return
        if len(self._tasks) >= self._limit:
            busy = f"busy: {self._limit} requests are being answered"
            self._send(reply_to, error_chunk(request.id, busy))
            return
        task = asyncio.get_running_loop().create_task(self._answer(op, request, reply_to))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, op: Op, request: Received, reply_to: str) -> None:
        try:
            async with asyncio.timeout(max(0.0, request.expires - time.time())):
                answer = await op(self._sio, request.query)
        except TimeoutError:
            log.warning(
                "cluster request %s (%s) from %s: not answered before its deadline",
                request.id,
                request.query.op,
                reply_to,
            )
            return
        except OpError as exc:
            self._send(reply_to, error_chunk(request.id, str(exc)))
            return
        except Exception as exc:
            log.exception("cluster request %s (%s) failed", request.id, request.query.op)
            self._send(reply_to, error_chunk(request.id, f"{type(exc).__name__}: {exc}"))
            return
        self.send_answer(request.id, answer, reply_to)

    def send_answer(self, request_id: str, answer: LocalAnswer, reply_to: str) -> None:
        for body in chunks(request_id, answer):
            self._send(reply_to, body)
