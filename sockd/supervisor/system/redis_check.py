"""The one time Redis must answer: the master's first start with ``--redis``.

A typo in the URL or a Redis that was never started should stop ``sockd start`` with one
line, not leave a cluster whose workers wait for a Redis that will never come. From then on
Redis is a run-time dependency: workers start, restart, recycle and reload, and a new
master takes over (SIGUSR2), whether it answers or not (their bus reports "degraded"), so
an outage never trips the crash-loop guard.

Every URL form is checked as the bus will use it (sockd/config/redis_url.py): one server
answers PING; through Sentinel, the Sentinels name a master and that master answers; a
Cluster's slot map loads from one of the nodes given, and every primary answers.
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry
from redis.sentinel import Sentinel

from sockd.config.io import redacted_url
from sockd.config.redis_url import RedisTarget, SentinelService, Server, parse_redis_url
from sockd.errors import StartupError

#: Seconds to connect to Redis and to get its answer to PING.
CHECK_TIMEOUT = 5.0
#: One try each, every wait bounded.
OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": CHECK_TIMEOUT,
    "socket_timeout": CHECK_TIMEOUT,
    "retry": Retry(NoBackoff(), 0),
}


def check_redis(url: str) -> None:
    """Raise :class:`StartupError` (one line naming the URL) unless Redis answers PING."""
    where = redacted_url(url)  # never the password, in a log or an error
    try:
        _ping(parse_redis_url(url), url)
    except ValueError as exc:  # a URL redis-py refuses
        raise StartupError(f"bad Redis URL {where!r}: {exc}") from None
    except (redis.RedisError, RedisClusterException, OSError) as exc:
        raise StartupError(f"cannot reach Redis at {where}: {exc or type(exc).__name__}") from None


def _ping(target: RedisTarget, url: str) -> None:
    if isinstance(target, Server):
        with contextlib.closing(redis.Redis.from_url(url, **OPTIONS)) as client:
            client.ping()
    elif isinstance(target, SentinelService):
        host, port = _master(target)
        master = redis.Redis(
            host, port, target.db, username=target.username, password=target.password, **OPTIONS
        )
        with contextlib.closing(master):
            try:
                master.ping()
            except (redis.RedisError, OSError) as exc:
                raise redis.ConnectionError(
                    f"the Sentinels name {host}:{port} as {target.service_name!r}: {exc}"
                ) from None
    else:
        cluster = RedisCluster(  # loads the slot map from the first node that answers
            startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
            username=target.username,
            password=target.password,
            **OPTIONS,
        )
        with contextlib.closing(cluster):
            cluster.ping(target_nodes=RedisCluster.PRIMARIES)


def _master(target: SentinelService) -> tuple[str, int]:
    """The master the first Sentinel that sees it up names, or a ConnectionError saying in
    one line what each Sentinel answered (redis-py's own quotes its clients' reprs)."""
    problems = []
    with contextlib.closing(Sentinel(list(target.sentinels), sentinel_kwargs=OPTIONS)) as sentinel:
        for (host, port), client in zip(target.sentinels, sentinel.sentinels, strict=True):
            try:
                masters = client.sentinel_masters()
            except (redis.RedisError, OSError) as exc:
                problems.append(f"{host}:{port}: {exc or type(exc).__name__}")
                continue
            state = masters.get(target.service_name) if isinstance(masters, dict) else None
            if state is None:
                problems.append(f"{host}:{port}: no master named so")
            elif not sentinel.check_master_state(state, target.service_name):
                problems.append(f"{host}:{port}: {state['ip']}:{state['port']} is down")
            else:
                return str(state["ip"]), int(state["port"])
    raise redis.ConnectionError(
        f"no Sentinel names an up master {target.service_name!r} ({'; '.join(problems)})"
    )
