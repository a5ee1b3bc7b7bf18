"""The one time Redis must answer: the master's first start with ``--redis``.

A typo in the URL or a Redis that was never started should stop ``sockd start`` with one
line, not leave a cluster whose workers wait for a Redis that will never come. From then on
Redis is a run-time dependency: workers start, restart, recycle and reload, and a new
master takes over (SIGUSR2), whether it answers or not (their bus reports "degraded"), so
an outage never trips the crash-loop guard.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from sockd.config.io import redacted_url
from sockd.errors import StartupError

#: Seconds to connect to Redis and to get its answer to PING.
CHECK_TIMEOUT = 5.0


def check_redis(url: str) -> None:
    """Raise :class:`StartupError` (one line naming the URL) unless Redis answers PING."""
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CHECK_TIMEOUT,
            socket_timeout=CHECK_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
    except ValueError as exc:  # not a redis://, rediss:// or unix:// URL
        raise StartupError(f"bad Redis URL {redacted_url(url)!r}: {exc}") from None
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        where = redacted_url(url)  # never the password, in a log or an error
        raise StartupError(f"cannot reach Redis at {where}: {exc or type(exc).__name__}") from None
    finally:
        client.close()
