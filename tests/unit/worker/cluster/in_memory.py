"""Several real python-socketio servers in one event loop, each with its sockd cluster,
joined by an in-memory transport that behaves as the master's relay: it names who it
asked, hands each request to them and each answer chunk back, a loop turn later.

Clients connect over Engine.IO long-polling in-process (``PollingClient``): the sockets the
clusters find are real python-socketio sockets, in real rooms.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import socketio

from sockd.worker.cluster.attach import attach
from sockd.worker.cluster.members import Member
from sockd.worker.cluster.pending import Chunk, Pending
from sockd.worker.cluster.query import Query
from sockd.worker.cluster.requester import Cluster
from tests.unit.worker.app_model.inprocess import PollingClient
from tests.unit.worker.asgi_driver import socketio_app


@dataclass
class Wire:
    """What every member's transport shares: the members, and what went over the wire."""

    clusters: dict[str, Cluster] = field(default_factory=dict)
    #: Members that read requests and never answer.
    silent: set[str] = field(default_factory=set)
    #: (asker, asked) of every request delivered.
    delivered: list[tuple[str, str]] = field(default_factory=list)


class WireTransport:
    def __init__(self, wire: Wire, member: Member) -> None:
        self._wire = wire
        self.me = member

    def bind(self, cluster: Cluster) -> None:
        self._wire.clusters[self.me.id] = cluster

    async def started(self) -> None:
        pass

    async def ask(self, request_id: str, body: bytes, query: Query, pending: Pending) -> None:
        asked = [
            cluster
            for member_id, cluster in self._wire.clusters.items()
            if member_id != self.me.id and query.to in (None, member_id)
        ]
        pending.expect([cluster.me for cluster in asked])
        loop = asyncio.get_running_loop()
        for cluster in asked:
            self._wire.delivered.append((self.me.id, cluster.me.id))
            if cluster.me.id not in self._wire.silent:
                loop.call_soon(cluster.answerer.handle, body, self.me.id)

    def answer(self, member_id: str, body: str) -> None:
        asker = self._wire.clusters[member_id]
        answer = json.loads(body)
        asyncio.get_running_loop().call_soon(self._deliver, asker, answer)

    def _deliver(self, asker: Cluster, answer: dict[str, Any]) -> None:
        pending = asker.pending.get(answer["id"])
        if pending is not None:
            pending.answer(self.me, Chunk.from_json(answer))

    async def close(self) -> None:
        self._wire.clusters.pop(self.me.id, None)


@dataclass
class Node:
    """One server of the cluster, its ASGI app and its clients."""

    sio: socketio.AsyncServer
    app: Any
    cluster: Cluster
    clients: list[PollingClient] = field(default_factory=list)

    async def connect(
        self, namespace: str = "/", auth: Any = None, headers: dict[str, str] | None = None
    ) -> str:
        client = PollingClient(self.app, headers or {})
        answer = await client.connect(namespace, auth)
        self.clients.append(client)
        return str(answer["sid"])


def cluster_of_servers(count: int, **options: Any) -> tuple[Wire, list[Node]]:
    wire = Wire()
    nodes = []
    for index in range(count):
        app = socketio_app(ping_interval=60, ping_timeout=60, **options)
        sio = app.engineio_server
        cluster = Cluster(sio, WireTransport(wire, Member(f"m{index}", 1000 + index, index)))
        attach(sio, cluster)
        nodes.append(Node(sio, app, cluster))
    return wire, nodes
