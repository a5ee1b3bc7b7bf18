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

Every URL form (sockd/config/redis_url.py) gives a client with the same options:

- one server: ``redis.asyncio.Redis``;
- Sentinel: a ``Redis`` whose connections ask the Sentinels for the master each time they
  connect (redis-py's ``SentinelConnectionPool``), so a reconnect after a failover finds the
  new master, and one that meets a demoted master (READONLY) drops it; the Sentinels are
  asked with the same timeouts, one attempt each;
- Cluster: ``redis.asyncio.RedisCluster``, which routes each key to its shard and follows
  MOVED and ASK redirections itself (a slot migration costs no error); a lost node makes
  the command fail, and the next one reloads the slot map.
"""

from __future__ import annotations

import socket
from typing import Any

import redis.asyncio
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sockd.config.redis_url import (
    Address,
    ClusterNodes,
    SentinelService,
    Server,
    parse_redis_url,
)
from sockd.worker.bus.lost_connection_parser import LostConnectionParser

#: Seconds to open a connection (and to get the replies of its handshake).
CONNECT_TIMEOUT = 2.0
#: TCP keepalive: first probe after this many idle seconds, then every INTERVAL, and the
#: connection is dead after COUNT unanswered ones (about 11 s in all; Linux's own default
#: is two hours, redis-py's 45 s).
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 5, 2, 3
#: Connections one client may open (the bus uses one or two at a time; per node in a
#: Cluster).
MAX_CONNECTIONS = 4

#: What :func:`bus_client` returns: the same commands, routed to one server or by key.
BusClient = redis.asyncio.Redis | RedisCluster


def bus_client(url: str, reply_timeout: float) -> BusClient:
    """A client whose commands fail after ``reply_timeout`` seconds without a reply, and
    whose idle connections TCP probes within seconds."""
    target = parse_redis_url(url)
    if isinstance(target, Server):
        return redis.asyncio.Redis.from_url(url, **_options(reply_timeout, url))
    options = _options(reply_timeout, None)
    if isinstance(target, SentinelService):
        return _sentinel_master(target, options)
    return _cluster(target, options)


def is_cluster(url: str) -> bool:
    """Whether ``url`` names a Redis Cluster."""
    return isinstance(parse_redis_url(url), ClusterNodes)


class Sentinels(Sentinel):
    """redis-py's Sentinel client, whose "no master" error says in a line what each
    Sentinel answered.

    redis-py's own message quotes the repr of each Sentinel's client (hundreds of
    characters apiece) into what becomes the bus's log line. The choice is redis-py's:
    the first Sentinel that names the master and sees it up (``check_master_state``) is
    asked first next time. Remove this override once redis-py's ``MasterNotFoundError``
    names Sentinels by address.
    """

    async def discover_master(self, service_name: str) -> Address:
        problems = []
        for index, sentinel in enumerate(self.sentinels):
            kwargs = sentinel.connection_pool.connection_kwargs
            where = f"{kwargs.get('host')}:{kwargs.get('port')}"
            try:
                masters = await sentinel.sentinel_masters()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                problems.append(f"{where}: {exc or type(exc).__name__}")
                continue
            state = masters.get(service_name) if isinstance(masters, dict) else None
            if state is None:
                problems.append(f"{where}: no master named so")
            elif not self.check_master_state(state, service_name):
                problems.append(f"{where}: {state['ip']}:{state['port']} is down")
            else:
                self.sentinels[0], self.sentinels[index] = sentinel, self.sentinels[0]
                return str(state["ip"]), int(state["port"])
        raise MasterNotFoundError(
            f"no Sentinel names an up master {service_name!r} ({'; '.join(problems)})"
        )


class SentinelMaster(redis.asyncio.Redis):
    """The master's client; closing it closes its Sentinels' connections too (redis-py
    leaves those to whoever made the ``Sentinel``, through ``master_for``'s
    ``redis_class``)."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        pool = self.connection_pool
        if isinstance(pool, SentinelConnectionPool):
            await pool.sentinel_manager.aclose()


def _sentinel_master(target: SentinelService, options: dict[str, Any]) -> redis.asyncio.Redis:
    # The Sentinels answer at once or not at all: their replies get the connect timeout.
    asking = {k: v for k, v in options.items() if k not in ("max_connections", "parser_class")}
    asking["socket_timeout"] = CONNECT_TIMEOUT
    sentinel = Sentinels(list(target.sentinels), sentinel_kwargs=asking, **options)
    credentials: dict[str, Any] = {
        "db": target.db,
        "username": target.username,
        "password": target.password,
    }
    return sentinel.master_for(target.service_name, redis_class=SentinelMaster, **credentials)


def _cluster(target: ClusterNodes, options: dict[str, Any]) -> RedisCluster:
    # RedisCluster takes no parser_class: its readers rely on EmptyReads alone against
    # redis-py's ETIMEDOUT bug (backoff.py, lost_connection_parser.py).
    del options["parser_class"]
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
        username=target.username,
        password=target.password,
        **options,
    )


def _options(reply_timeout: float, server_url: str | None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": reply_timeout,
        "retry": Retry(NoBackoff(), 0),
        "max_connections": MAX_CONNECTIONS,
        "parser_class": LostConnectionParser,
    }
    if server_url is None or not server_url.startswith("unix:"):  # sockets have no keepalive
        options["socket_keepalive"] = True
        options["socket_keepalive_options"] = _keepalive_options()
    return options


def _keepalive_options() -> dict[int, int]:
    wanted = {
        "TCP_KEEPIDLE": KEEPALIVE_IDLE,
        "TCP_KEEPINTVL": KEEPALIVE_INTERVAL,
        "TCP_KEEPCNT": KEEPALIVE_COUNT,
    }
    return {getattr(socket, name): value for name, value in wanted.items() if hasattr(socket, name)}
