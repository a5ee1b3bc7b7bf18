"""One worker's cluster: asks the other members, answers for itself, answers them.

A call sends its request first (the others work meanwhile), then answers for this
worker's own sockets without the bus, then waits for the rest until its deadline; the
pending entry goes when the call returns, whatever happened (answered, expired,
cancelled), so late answers are dropped and nothing accumulates.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any, Protocol

import socketio

from sockd.worker.cluster.answerer import Answerer
from sockd.worker.cluster.census import summary
from sockd.worker.cluster.local import OPS, LocalAnswer, Op, OpError
from sockd.worker.cluster.members import Member
from sockd.worker.cluster.pending import Chunk, Collected, Pending, PendingRequests
from sockd.worker.cluster.query import Query
from sockd.worker.cluster.results import UnknownNamespace
from sockd.worker.cluster.server_events import server_emit
from sockd.worker.protocol.namespaces import serves

log = logging.getLogger("sockd.cluster")

#: The operations that select sockets of a namespace, which must be one the server serves.
SELECTING = frozenset({"fetch", "join", "leave", "disconnect", "emit", "sizes"})
#: The longest a call may wait.
MAX_TIMEOUT = 300.0
#: The share of the master's census deadline this worker's own census request may take.
CENSUS_SHARE = 0.8


class Transport(Protocol):
    """How requests reach the other members and answers come back."""

    me: Member

    def bind(self, cluster: Cluster) -> None: ...

    async def started(self) -> None:
        """Return once this worker takes part (bounded; never fails: a transport that is
        not there yet keeps trying, and calls say so meanwhile)."""

    async def ask(self, request_id: str, body: bytes, query: Query, pending: Pending) -> None:
        """Send the request; ``pending`` learns (now or soon) which members were asked."""

    def answer(self, member_id: str, body: str) -> None:
        """Send one chunk of an answer to the member that asked; never waits."""

    async def close(self) -> None: ...


class Cluster:
    def __init__(self, sio: socketio.AsyncServer, transport: Transport) -> None:
        self.sio = sio
        self.transport = transport
        self.me = transport.me
        self.pending = PendingRequests()
        self.ops: dict[str, Op] = {**OPS, "server_emit": server_emit, "status": self._status}
        self.answerer = Answerer(sio, self.ops, transport.answer)
        transport.bind(self)

    async def request(self, query: Query, timeout: float, include_self: bool = True) -> Collected:
        """Ask every member (``query.to``: one) and collect the answers until ``timeout``."""
        check_timeout(timeout)
        if query.op in SELECTING and not serves(self.sio, query.namespace):
            raise UnknownNamespace(f"the server has no namespace {query.namespace!r}")
        request_id = secrets.token_hex(8)
        pending = self.pending.open(request_id, timeout, query.limit)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        timer = loop.call_at(deadline, pending.expire)
        asking: asyncio.Task[None] | None = None
        try:
            own = include_self and query.to in (None, self.me.id)
            if own:
                pending.expect_own(self.me)
            if query.to == self.me.id:
                pending.expect([])
            else:  # the others work while this worker answers for itself
                body = json.dumps(query.body(request_id, time.time() + timeout)).encode()
                asking = loop.create_task(self.transport.ask(request_id, body, query, pending))
                asking.add_done_callback(lambda task: _asked(task, pending))
            if own:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await self._answer_self(query)
                except TimeoutError:
                    pass  # this worker is missing too, as the deadline says
                else:
                    pending.answer(self.me, chunk)
            return await pending.future
        finally:
            timer.cancel()
            if asking is not None:
                asking.cancel()
            self.pending.close(request_id)

    async def _answer_self(self, query: Query) -> Chunk:
        try:
            answer = await self.ops[query.op](self.sio, query)
        except OpError as exc:
            return Chunk(0, True, error=str(exc))
        except Exception as exc:  # a bug: this worker fails as another one would
            log.exception("cluster request (%s) failed on this worker", query.op)
            return Chunk(0, True, error=f"{type(exc).__name__}: {exc}")
        items = [json.loads(item) for item in answer.items]
        return Chunk(0, True, items=items, value=answer.value, truncated=answer.truncated)

    async def _status(self, sio: socketio.AsyncServer, query: Query) -> LocalAnswer:
        """For ``sockd status`` (the master asks one worker): the cluster's census."""
        timeout = float(query.args.get("timeout") or 1.0) * CENSUS_SHARE
        collected = await self.request(Query("census"), timeout)
        return LocalAnswer(value=summary(collected))

    async def close(self) -> None:
        await self.transport.close()


def _asked(task: asyncio.Task[None], pending: Pending) -> None:
    """A transport that failed to send says so in the result (and the log)."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("a cluster request could not be sent", exc_info=error)
        pending.unreachable(f"not asked: {type(error).__name__}: {error}")


def check_timeout(timeout: Any) -> None:
    if not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(f"timeout must be a number of seconds above 0, at most {MAX_TIMEOUT:g}")
