"""One log line when the Cluster node that holds the bus's key changes.

redis-py's ``RedisCluster`` follows MOVED and ASK redirections by itself: during a slot
migration (or after a failover to a replica) the Streams bus's appends and reads go on
without an error, so nothing else would say that the stream now lives elsewhere. The
publisher's slot map is updated at the first MOVED; this compares the key's node with the
one seen last, after each batch, and says so once per move.
"""

from __future__ import annotations

import logging

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from sockd.worker.bus.redis_clients import BusClient


class ShardOwner:
    """Which node of a Cluster serves ``key``, as one client last saw it."""

    def __init__(self, key: str, log: logging.Logger) -> None:
        self._key = key
        self._log = log
        self._node: str | None = None

    def check(self, client: BusClient) -> None:
        """Log once if ``client`` now routes the key to another node (nothing for one
        server or Sentinel)."""
        if not isinstance(client, RedisCluster):
            return
        try:
            serving = client.get_node_from_key(self._key)
        except RedisClusterException:  # the slot map is being reloaded
            return
        if serving is None:
            return
        node = serving.name
        if self._node is not None and node != self._node:
            self._log.info(
                "redis bus: %s moved from %s to %s (its slot migrated, or a replica took "
                "over); following it",
                self._key, self._node, node,
            )  # fmt: skip
        self._node = node
