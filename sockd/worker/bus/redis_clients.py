"""redis-py clients for the bus, with every wait bounded and no retries of their own.

redis-py's defaults suit a request/response app, not a bus that must notice an outage and
come back quickly: TCP keepalive that declares a silent peer dead after 45 s, and ten
internal retries per command on top of the bus's own. Here each client says explicitly how
long a connect and a reply may take, has the kernel probe an idle connection within
seconds (the health check of a pub/sub subscription, which waits for messages without a
timeout: a ping there would be answered only after a stall, and reconnecting during a
stall is what loses pub/sub messages), and fails at once so that the bus's own loop (with
its backoff and its log lines) decides what happens next. The Streams reader's blocking
read is bounded by its reply timeout, which makes it its own health check.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from sockd.worker.bus.lost_connection_parser import LostConnectionParser

#: Seconds to open a connection (and to get the replies of its handshake).
CONNECT_TIMEOUT = 2.0
#: TCP keepalive: first probe after this many idle seconds, then every INTERVAL, and the
#: connection is dead after COUNT unanswered ones (about 11 s in all; Linux's own default
#: is two hours, redis-py's 45 s).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 5, 2, 3
#: Connections one client may open (the bus uses one or two at a time).
MAX_CONNECTIONS = 4


def bus_client(url: str, reply_timeout: float) -> redis.asyncio.Redis:
    """A client whose commands fail after ``reply_timeout`` seconds without a reply, and
    whose idle connections TCP probes within seconds."""
    options: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": reply_timeout,
        "retry": Retry(NoBackoff(), 0),
        "max_connections": MAX_CONNECTIONS,
        "parser_class": LostConnectionParser,
    }
    if urlparse(url).scheme in ("redis", "rediss"):  # TCP (unix:// sockets have no keepalive)
        options["socket_keepalive"] = True
        options["socket_keepalive_options"] = _keepalive_options()
    return redis.asyncio.Redis.from_url(url, **options)


def _keepalive_options() -> dict[int, int]:
    wanted = {
        "TCP_KEEPIDLE": KEEPALIVE_IDLE,
        "TCP_KEEPINTVL": KEEPALIVE_INTERVAL,
        "TCP_KEEPCNT": KEEPALIVE_COUNT,
    }
    return {getattr(socket, name): value for name, value in wanted.items() if hasattr(socket, name)}
