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
import os
import random
from typing import TYPE_CHECKING, Any

import redis.asyncio
from redis.exceptions import RedisError

from sockd.wire.cluster_frames import routed, split_routed
from sockd.wire.frames import FrameError
from sockd.worker.bus.cluster_inbox import CLUSTER_METHOD, ClusterInbox
from sockd.worker.cluster.members import Member
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
#: Backoff between reconnects: doubling from the first, capped.
RETRY_FIRST, RETRY_MAX = 0.2, 5.0
FAILURES = (RedisError, OSError, TimeoutError)


def reply_channel(channel: str, member_id: str) -> str:
    return f"{channel}:sockd-reply:{member_id}"


class RedisTransport:
    def __init__(self, bus: ClusterInbox, url: str, slot: int) -> None:
        self._bus = bus
        self._url = url
        self.me = Member(str(bus.host_id), os.getpid(), slot)
        self._channel = str(bus.channel)
        self._client = _client(url, COMMAND_TIMEOUT)
        self._members = RedisMembers(self._client, self._channel, self.me)
        self._subscribed = asyncio.Event()
        self._outbox: asyncio.Queue[tuple[str, str]] = asyncio.Queue(MAX_OUTBOX)
        self._tasks: list[asyncio.Task[None]] = []
        self._cluster: Cluster | None = None

    def bind(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._bus.cluster_inbox = self._on_request
        loop = asyncio.get_running_loop()
        for loop_body in (self._read_replies, self._announce, self._publish_answers):
            self._tasks.append(loop.create_task(_retrying(loop_body)))

    async def ask(self, request_id: str, body: bytes, query: Query, pending: Pending) -> None:
        try:
            async with asyncio.timeout(min(pending.timeout, COMMAND_TIMEOUT)):
                await self._subscribed.wait()  # answers must find this worker listening
                members = await self._members.others()
        except FAILURES as exc:
            pending.unreachable(f"Redis unreachable, not asked: {exc or type(exc).__name__}")
            return
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
        reader = _client(self._url, None)
        pubsub = reader.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(reply_channel(self._channel, self.me.id))
            self._subscribed.set()
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is not None and message.get("type") == "message":
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
            await self._members.announce()
            await asyncio.sleep(ANNOUNCE_INTERVAL)

    async def _publish_answers(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for channel, line in batch:
                        pipe.publish(channel, line)
                    await pipe.execute()
            except FAILURES as exc:
                log.warning("cluster answers: %d chunk(s) not sent to Redis: %s", len(batch), exc)
                raise


async def _retrying(loop_body: Any) -> None:
    """Run ``loop_body`` again after each failure, after a capped, jittered backoff."""
    attempt = 0
    while True:
        try:
            await loop_body()
            attempt = 0
        except FAILURES as exc:
            attempt += 1
            log.debug("cluster transport: %s; retrying", exc)
        delay = min(RETRY_MAX, RETRY_FIRST * 2 ** min(attempt, 8))
        await asyncio.sleep(delay * random.uniform(0.5, 1.0))


def _client(url: str, timeout: float | None) -> redis.asyncio.Redis:
    return redis.asyncio.Redis.from_url(
        url,
        socket_connect_timeout=COMMAND_TIMEOUT,
        socket_timeout=timeout,
        socket_keepalive=True,
    )
