"""Cluster requests over Redis (``--redis``): every worker on every host sharing it.

A request is published on the bus (in order with this worker's broadcasts; a stream bus
keeps it for a member that was away, which drops it if it reads it after its deadline),
to the members announced at that moment (redis_members.py). Answers do not go on the bus:
each member has a reply channel of its own (``socketio:sockd-reply:<id>``), read by a
subscriber of its own, and answers are published there in order, in bounded chunks.
A member's id is its bus's ``host_id``.

When Redis cannot be reached, a call answers for this worker alone and says that the
others could not be asked; answers that cannot be sent are dropped (their requester
counts those members missing). Every loop here retries with a capped backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPipeline, ClusterPubSub, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

from sockd.wire.cluster_frames import routed, split_routed
from sockd.wire.frames import FrameError
from sockd.worker.bus.backoff import EmptyReads, SpinningRead, retry_delay
from sockd.worker.bus.cluster_inbox import CLUSTER_METHOD, ClusterInbox
from sockd.worker.bus.redis_clients import CONNECT_TIMEOUT, BusClient, bus_client
from sockd.worker.cluster.members import Member, Missing
from sockd.worker.cluster.pending import Chunk, Pending
from sockd.worker.cluster.query import Query
from sockd.worker.cluster.redis_members import ANNOUNCE_INTERVAL, RedisMembers

if TYPE_CHECKING:
    from sockd.worker.cluster.requester import Cluster

log = logging.getLogger("sockd.cluster")

#: Seconds one Redis command may take.
COMMAND_TIMEOUT = 3.0
#: Answer chunks waiting to be published, at most; more are dropped.
MAX_OUTBOX = 4096
#: Chunks published in one pipeline at most.
BATCH = 64
#: Why a call may lack members while Redis's member list is being rebuilt.
REBUILDING = (
    "Redis lost the member list (restarted without its data?): workers that have not "
    "announced themselves again since were not asked"
)
#: Seconds a starting worker waits to be announced before it reports ready regardless.
STARTUP_TIMEOUT = 1.0
#: Seconds Redis may take to confirm the reply channel's subscription.
SUBSCRIBE_TIMEOUT = 5.0
FAILURES = (RedisError, RedisClusterException, OSError, TimeoutError, SpinningRead)


def reply_channel(channel: str, member_id: str) -> str:
    return f"{channel}:sockd-reply:{member_id}"


class RedisTransport:
    def __init__(self, bus: ClusterInbox, url: str, slot: int) -> None:
        self._bus = bus
        self._url = url
        self.me = Member(str(bus.host_id), os.getpid(), slot)
        self._channel = str(bus.channel)
        self._client = bus_client(url, COMMAND_TIMEOUT)
        self._members = RedisMembers(self._client, self._channel, self.me)
        self._subscribed = asyncio.Event()
        self._announced = asyncio.Event()
        #: Set once the first announcement succeeded or failed.
        self._first_try = asyncio.Event()
        self._renew = asyncio.Event()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(MAX_OUTBOX)
        self._tasks: list[asyncio.Task[None]] = []
        self._cluster: Cluster | None = None

    def bind(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._bus.cluster_inbox = self._on_request
        loop = asyncio.get_running_loop()
        for loop_body in (self._read_replies, self._announce, self._publish_answers):
            self._tasks.append(loop.create_task(self._retrying(loop_body)))

    async def started(self) -> None:
        """Wait (bounded) until this worker is announced and listens for answers, so that
        a worker that reports ready is asked; with Redis down, do not wait (a worker starts
        without Redis, and its calls say that the others were not asked)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STARTUP_TIMEOUT):
                await self._first_try.wait()
                if self._announced.is_set():
                    await self._subscribed.wait()

    async def ask(self, request_id: str, body: bytes, query: Query, pending: Pending) -> None:
        budget = min(pending.timeout / 2, COMMAND_TIMEOUT)  # leave the others time to answer
        try:
            async with asyncio.timeout(budget):
                await self._subscribed.wait()  # answers must find this worker listening
                members, whole = await self._members.others()
        except FAILURES as exc:
            why = f"no answer within {budget:g}s" if isinstance(exc, TimeoutError) else str(exc)
            pending.unreachable(f"Redis unreachable, not asked: {why or type(exc).__name__}")
            return
        if not whole:
            pending.note(Missing(None, REBUILDING))
            self._announce_now()
        if query.to is not None:
            members = [member for member in members if member.id == query.to]
        pending.expect(members)
        if members:
            message = {"method": CLUSTER_METHOD, "host_id": self.me.id, "request": json.loads(body)}
            await self._bus._publish(message)

    def answer(self, member_id: str, body: str) -> None:
        line = routed({"from": self.me.to_json()}, body.encode()).decode()
        try:
            self._outbox.put_nowait((reply_channel(self._channel, member_id), line))
        except asyncio.QueueFull:
            log.error("cluster answers: %d chunks wait for Redis; dropping one", MAX_OUTBOX)

    async def close(self) -> None:
        """Leave the cluster (others stop expecting this worker at once), stop the loops."""
        self._bus.cluster_inbox = None
        with contextlib.suppress(*FAILURES):
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await self._members.leave()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(*FAILURES):
            await self._client.aclose()

    async def _retrying(self, loop_body: Callable[[], Awaitable[None]]) -> None:
        """Run ``loop_body`` again after each failure, after the bus's backoff (capped at
        a couple of seconds, so it needs no reset)."""
        attempt = 0
        while True:
            try:
                await loop_body()
            except FAILURES as exc:
                log.debug("cluster requests over Redis: %s; trying again", exc)
            attempt += 1
            await asyncio.sleep(retry_delay(attempt))

    def _on_request(self, message: dict[str, Any]) -> None:
        request = message.get("request")
        requester = message.get("host_id")
        cluster = self._cluster
        if cluster is None or not isinstance(request, dict) or requester == self.me.id:
            return
        if request.get("to") not in (None, self.me.id):
            return  # a request for one other member
        cluster.answerer.handle(request, str(requester))

    async def _read_replies(self) -> None:
        reader = bus_client(self._url, CONNECT_TIMEOUT)
        pubsub = reader.pubsub()
        replies = _Replies(reader, pubsub)
        try:
            await replies.subscribe(reply_channel(self._channel, self.me.id))
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                while not _is(await replies.next(SUBSCRIBE_TIMEOUT), replies.subscribed):
                    pass
            self._subscribed.set()  # answers published from now on reach this worker
            reads = EmptyReads(math.inf)
            while True:
                reads.reading()
                message = await replies.next(None)  # keepalive finds a dead peer
                if message is None:
                    reads.empty()
                elif _is(message, replies.message):
                    reads.received()
                    self._answered(message["data"])
        finally:
            self._subscribed.clear()
            with contextlib.suppress(*FAILURES):
                await pubsub.aclose()
            with contextlib.suppress(*FAILURES):
                await reader.aclose()

    def _answered(self, data: bytes) -> None:
        cluster = self._cluster
        try:
            routing, body = split_routed(data)
            member = Member.from_json(routing["from"])
            answer = json.loads(body)
            pending = cluster.pending.get(str(answer["id"])) if cluster else None
        except (FrameError, ValueError, KeyError, TypeError) as exc:
            log.error("a malformed cluster answer on Redis: %s", exc)
            return
        if pending is not None:
            pending.answer(member, Chunk.from_json(answer))

    async def _announce(self) -> None:
        while True:
            try:
                await self._members.announce()
            finally:
                self._first_try.set()
            self._announced.set()
            self._renew.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(ANNOUNCE_INTERVAL):
                    await self._renew.wait()

    def _announce_now(self) -> None:
        """This worker's entry is not in Redis (it lost its data): renew it at once."""
        self._renew.set()

    async def _publish_answers(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    publish = pipe.spublish if isinstance(pipe, ClusterPipeline) else pipe.publish
                    for channel, line in batch:
                        publish(channel, line)
                    await pipe.execute()
            except FAILURES as exc:
                log.warning("cluster answers: %d chunk(s) not sent to Redis: %s", len(batch), exc)
                raise


class _Replies:
    """A reply channel's subscription: plain pub/sub, or sharded pub/sub on a Redis Cluster
    (where plain PUBLISH is not pipelined, and would cross every node)."""

    def __init__(self, client: BusClient, pubsub: PubSub) -> None:
        self._client = client
        self._pubsub = pubsub
        self._sharded = isinstance(client, RedisCluster)
        self.subscribed, self.message = (
            ("ssubscribe", "smessage") if self._sharded else ("subscribe", "message")
        )

    async def subscribe(self, channel: str) -> None:
        if isinstance(self._client, RedisCluster):
            await self._client.initialize()  # the slot map, to find the channel's node
            await self._pubsub.ssubscribe(channel)
        else:
            await self._pubsub.subscribe(channel)

    async def next(self, timeout: float | None) -> dict[str, Any] | None:
        if not isinstance(self._pubsub, ClusterPubSub):
            return await self._pubsub.get_message(timeout=timeout)
        message = await self._pubsub.get_sharded_message(timeout=timeout)  # type: ignore[arg-type]
        if _is(message, "sunsubscribe"):  # the channel's slot moved: subscribe there
            raise RedisConnectionError("Redis ended the reply channel's subscription")
        return message


def _is(message: dict[str, Any] | None, kind: str) -> bool:
    return message is not None and message.get("type") == kind
