"""Cluster requests (``sockd.cluster``) read from the Redis bus go to the cluster, not to
python-socketio's listener (which would skip them: it knows no such method).

Over the master, requests travel in frames of their own (the master must know who
answers); over Redis they go on the bus like any message, in order with the broadcasts
of the worker that asked, and a stream bus keeps them for a member that was away (which
drops one read after its deadline).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from sockd.worker.bus.encoded_broadcast import EncodedBroadcast

#: The ``method`` of a cluster request on the bus.
CLUSTER_METHOD = "sockd-cluster"


class ClusterInbox(EncodedBroadcast):
    #: Receives each cluster request read from the bus (set by the cluster's transport).
    cluster_inbox: Callable[[dict[str, Any]], None] | None = None

    async def _delivering_encoded(self, received: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for message in super()._delivering_encoded(received):
            if isinstance(message, dict) and message.get("method") == CLUSTER_METHOD:
                if self.cluster_inbox is not None:
                    self.cluster_inbox(message)
                continue
            yield message
