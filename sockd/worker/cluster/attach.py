"""Which cluster a server's calls go to.

A worker attaches its cluster to the app's server once its bus is installed
(sockd/worker/hosting/worker.py). A server sockd does not serve with its own bus (a plain
uvicorn, an in-process test) is a cluster of one while its client manager is
python-socketio's in-memory one; under any other client manager the calls refuse, since
they could not reach the other servers.
"""

from __future__ import annotations

import os
import weakref

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from sockd.worker.cluster.members import Member
from sockd.worker.cluster.pending import Pending
from sockd.worker.cluster.query import Query
from sockd.worker.cluster.requester import Cluster
from sockd.worker.cluster.results import ClusterUnavailable

_clusters: weakref.WeakKeyDictionary[socketio.AsyncServer, Cluster | str] = (
    weakref.WeakKeyDictionary()
)


def attach(sio: socketio.AsyncServer, cluster: Cluster) -> None:
    _clusters[sio] = cluster


def refuse(sio: socketio.AsyncServer, reason: str) -> None:
    """Calls on ``sio`` raise ClusterUnavailable with ``reason``."""
    _clusters[sio] = reason


def cluster_of(sio: socketio.AsyncServer) -> Cluster:
    found = _clusters.get(sio)
    if isinstance(found, Cluster):
        return found
    if isinstance(found, str):
        raise ClusterUnavailable(found)
    if isinstance(sio.manager, AsyncPubSubManager):
        raise ClusterUnavailable(
            f"the server's client manager {type(sio.manager).__name__} is not sockd's: "
            "sockd.cluster calls work in apps sockd serves, with its bus"
        )
    cluster = Cluster(sio, Alone())
    _clusters[sio] = cluster
    return cluster


class Alone:
    """The transport of a server with no other members."""

    def __init__(self) -> None:
        self.me = Member(str(os.getpid()), os.getpid(), None)

    def bind(self, cluster: Cluster) -> None:
        pass

    async def started(self) -> None:
        pass

    async def ask(self, request_id: str, body: bytes, query: Query, pending: Pending) -> None:
        pending.expect([])

    def answer(self, member_id: str, body: str) -> None:
        pass

    async def close(self) -> None:
        pass
