"""An ETIMEDOUT from the kernel is a lost connection, not a read that timed out.

The bug (redis-py 8.1, asyncio): when TCP gives up on Redis (keepalive probes unanswered,
about 45 s into a network partition with redis-py's default keepalive), the transport stores
``OSError(ETIMEDOUT)`` on the connection's ``StreamReader``. Python builds that as the
built-in ``TimeoutError``, which since Python 3.11 *is* ``asyncio.TimeoutError``.
``AbstractConnection.read_response`` catches ``asyncio.TimeoutError`` to turn the caller's
own read timeout into ``None``, and every pub/sub read passes a timeout (``math.inf`` for
``listen()``, the given one for ``get_message``), so the dead connection answers ``None``
without being closed. The next read raises the stored error again at once, without ever
suspending: ``PubSub.listen()`` spins at 100% CPU, the event loop never turns (no heartbeat,
so the watchdog kills the worker), and it never reconnects, also after Redis is back.

The fix here: the parser (``parser_class``, a constructor argument of redis-py's
connections) raises such an error as ``ConnectionError``, which redis-py handles as a lost
connection. A timer's expiry never reaches the parser (it surfaces where the timer was
started, outside it), so only the kernel's error is converted.

Remove this module once redis-py's ``read_response`` returns ``None`` only when its own
timer expired (for example ``except asyncio.TimeoutError as exc:`` followed by
``if timeout is not None and exc.errno is None``) and closes the connection otherwise.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import DefaultParser
from redis.exceptions import ConnectionError as RedisConnectionError


class LostConnectionParser(DefaultParser):  # type: ignore[misc,valid-type]
    """redis-py's default parser (hiredis), reporting the kernel's ETIMEDOUT as a lost
    connection."""

    async def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().read_response(*args, **kwargs)
        except TimeoutError as exc:
            if exc.errno is None:
                raise
            raise RedisConnectionError(f"connection to Redis lost: {exc}") from exc
