"""From an accepted connection to a worker: accept, find the sticky key, pick the slot, hand
the fd over (or queue it while the slot's worker is not ready).

:func:`build_routing` wires the stages with the edge's limits (``--max-per-address``,
``--max-pending``), so the arbiter needs only the dispatcher and the acceptor it returns.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from sockd.config.cluster import ClusterSettings
from sockd.supervisor.routing.acceptor import Acceptor, fitted_cap
from sockd.supervisor.routing.address_limit import AddressLimit
from sockd.supervisor.routing.dispatcher import Dispatcher
from sockd.supervisor.routing.keys import build_resolver
from sockd.supervisor.routing.keys.trusted import TrustedProxies


def build_routing(
    listeners: list[socket.socket],
    cluster: ClusterSettings,
    *,
    slots: int,
    queue_timeout: float,
    queue_limit: int,
    sessions: Callable[[int], int],
) -> tuple[Dispatcher, Acceptor]:
    """The dispatcher (slots come and go through it) and the acceptor (not started yet)."""
    per_address = None
    if cluster.max_per_address is not None:
        trusted = TrustedProxies(cluster.trusted_proxy)
        per_address = AddressLimit(cluster.max_per_address, trusted.__contains__)
    dispatcher = Dispatcher(
        slots,
        sticky=cluster.sticky,
        queue_timeout=queue_timeout,
        queue_limit=queue_limit,
        sessions=sessions,
        per_address=per_address,
    )
    keys = build_resolver(cluster, dispatcher.dispatch)
    acceptor = Acceptor(
        listeners,
        keys,
        held=lambda: keys.pending + dispatcher.queued(),
        max_held=fitted_cap(cluster.max_pending),
        setting=cluster.max_pending,
    )
    return dispatcher, acceptor
