"""The master's answers to ``sockd status|reload|stop``, one request at a time.

Requests come over the control socket (``sockd/control/server.py``) as JSON objects;
each is checked here, then handed to the callable that does the work, so a malformed
request is refused with a reason and never reaches the lifecycle.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from sockd.supervisor.lifecycle.slot_keeper import MAX_WORKERS

log = logging.getLogger("sockd.master")

Reply = dict[str, Any]


class ControlHandlers:
    def __init__(
        self,
        status: Callable[[], dict[str, Any]],
        reload: Callable[[int | None], Awaitable[Reply]],
        stop: Callable[[float | None], float],
        stopping: Callable[[], bool],
        census: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        """``stop(timeout)`` starts a graceful stop and says the drain timeout in force;
        ``census()`` is the cluster's sockets and rooms, which ``status`` adds (bounded)."""
        self._status = status
        self._census = census
        self._reload = reload
        self._stop = stop
        self._stopping = stopping

    async def handle(self, request: dict[str, Any]) -> Reply:
        """Answer one request."""
        command = request.get("command")
        if command == "status":
            status = self._status()
            if self._census is not None:
                status["cluster"] = await self._census()
            return {"ok": True, "status": status}
        if command not in ("reload", "stop"):
            return {"ok": False, "error": f"unknown command {command!r}"}
        if self._stopping():
            return {"ok": False, "error": "sockd is stopping"}
        if command == "reload":
            return await self._on_reload(request.get("workers"))
        return self._on_stop(request.get("timeout"))

    async def _on_reload(self, workers: Any) -> Reply:
        if workers is not None and (type(workers) is not int or not 1 <= workers <= MAX_WORKERS):
            return {"ok": False, "error": f"workers must be 1 to {MAX_WORKERS}"}
        log.info("reload asked for over the control socket")
        return await self._reload(workers)

    def _on_stop(self, timeout: Any) -> Reply:
        if timeout is not None and (type(timeout) not in (int, float) or timeout < 0):
            return {"ok": False, "error": "timeout must be a number of seconds >= 0"}
        graceful = self._stop(None if timeout is None else float(timeout))
        return {"ok": True, "pid": os.getpid(), "graceful_timeout": graceful}
