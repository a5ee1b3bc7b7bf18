"""The one place that touches uvicorn internals: serving passed-in sockets.

uvicorn has no public API for "serve this already-accepted socket". Its
``Server`` runs lifespan, the once-a-second tick and graceful shutdown with
zero listeners, and its HTTP protocol classes serve any connected socket given
``server_state`` and the lifespan ``state``. Those names (``_serve``,
``server_state``, ``lifespan.state``, ``http_protocol_class``, ``_loop``) are
internals, stable since uvicorn 0.21; pyproject pins a range and the tests run
the hand-off at both ends of it.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn


class UvicornHost:
    """uvicorn with no listener, fed client sockets one at a time."""

    def __init__(
        self, app: Any, *, log_level: str, access_log: bool, graceful_timeout: float
    ) -> None:
        self.config = uvicorn.Config(
            app,
            lifespan="auto",
            log_config=None,
            log_level=log_level,
            access_log=access_log,
            timeout_graceful_shutdown=graceful_timeout,
            # The master already accepted; proxies are handled by the master too.
            proxy_headers=False,
            server_header=False,
        )
        self.config.load()
        self.server = uvicorn.Server(self.config)
        self.startup_failed = False
        self._task: asyncio.Task[None] | None = None
        #: Hand-offs whose transport is being set up (kept so they are not collected).
        self._connecting: set[asyncio.Task[None]] = set()

    async def start(self) -> bool:
        """Run the app's startup; True once uvicorn serves, False if startup failed."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        while not self.server.started and not self._task.done():
            await asyncio.sleep(0.01)
        return self.server.started

    async def _run(self) -> None:
        try:
            # ``serve`` would install uvicorn's signal handlers; the worker owns its signals.
            await self.server._serve(sockets=[])
        except SystemExit:
            # uvicorn exits the process when lifespan startup fails.
            self.startup_failed = True

    def serve_socket(self, sock: socket.socket) -> None:
        """Serve one connected client socket as if uvicorn had accepted it."""
        loop = asyncio.get_running_loop()
        protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config,
            server_state=self.server.server_state,
            app_state=self.server.lifespan.state,
            _loop=loop,
        )
        sock.setblocking(False)
        task = loop.create_task(_connect(loop, protocol, sock))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    def shut_down(self, timeout: float) -> None:
        """Start uvicorn's graceful shutdown, waiting at most ``timeout`` for requests."""
        self.config.timeout_graceful_shutdown = max(0.0, timeout)
        self.server.should_exit = True

    async def wait_closed(self) -> None:
        if self._task is not None:
            await self._task


async def _connect(loop: asyncio.AbstractEventLoop, protocol: Any, sock: socket.socket) -> None:
    try:
        await loop.connect_accepted_socket(lambda: protocol, sock)
    except OSError:
        sock.close()  # the client went away between accept and hand-off
