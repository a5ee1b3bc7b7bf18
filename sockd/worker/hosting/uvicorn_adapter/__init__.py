"""The one place that touches uvicorn internals: serving passed-in sockets.

uvicorn has no public API for "serve this already-accepted socket". Its ``Server`` runs
lifespan, the once-a-second tick and graceful shutdown with zero listeners, and its HTTP
protocol classes serve any connected socket given ``server_state`` and the lifespan
``state``. Those names (``_serve``, ``server_state``, ``lifespan.state``,
``http_protocol_class``, ``_loop``) are internals: entries of the compat list
(sockd/worker/compat/entries/), whose guard checks them before a worker starts.

The protocol classes are uvicorn's with sockd's part in front: ``http.py`` (the real
client address, each request head bounded in front of httptools) and ``websocket.py``
(the real client address, lighter queues, early frames held until the app accepted,
``send_now`` for the direct write). This package is the only code that knows their
internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import ssl
from typing import Any

import uvicorn

from sockd.worker.hosting import client_errors
from sockd.worker.hosting.request_head import HeadLimits
from sockd.worker.hosting.uvicorn_adapter.http import sockd_http
from sockd.worker.hosting.uvicorn_adapter.websocket import Address, direct_sender

__all__ = ["UvicornHost", "direct_sender"]


class UvicornHost:
    """uvicorn with no listener, fed client sockets one at a time."""

    def __init__(
        self,
        app: Any,
        *,
        log_level: str,
        access_log: bool,
        graceful_timeout: float,
        per_message_deflate: bool = False,
        head_limits: HeadLimits | None = None,
        keep_alive_timeout: float = 5.0,
        ws_max_size: int = 16 * 1024 * 1024,
        certfile: str | None = None,
        keyfile: str | None = None,
        ca_certs: str | None = None,
    ) -> None:
        self.config = uvicorn.Config(
            app,
            lifespan="auto",
            log_config=None,
            log_level=log_level,
            access_log=access_log,
            # uvicorn takes whole seconds (the master's own deadline bounds the drain).
            timeout_graceful_shutdown=math.ceil(graceful_timeout),
            # The master already accepted; proxies are handled by the master too.
            proxy_headers=False,
            server_header=False,
            # The fastest of uvicorn's WebSocket implementations here (timers, no tasks).
            ws="websockets-sansio",
            # Engine.IO's own ping/pong already finds dead peers (as in Node's socket.io,
            # which sends no WebSocket pings): a second timer per connection buys nothing.
            ws_ping_interval=None,
            # Off by default as in Node's socket.io: a deflate context per WebSocket
            # roughly doubles the memory of an idle connection (bench/scenarios/idle.py).
            ws_per_message_deflate=per_message_deflate,
            # Checked from each frame's header (and while inflating), closing with 1009:
            # the app's largest message (Engine.IO's maxPayload), not uvicorn's 16 MiB.
            ws_max_size=ws_max_size,
            timeout_keep_alive=keep_alive_timeout,  # type: ignore[arg-type]
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            ssl_ca_certs=ca_certs,
            ssl_cert_reqs=ssl.CERT_REQUIRED if ca_certs else ssl.CERT_NONE,
        )
        self.config.load()
        client_errors.count_library_lines()
        #: The TLS context of the worker's handshakes; ``None`` for plain TCP.
        self.ssl: ssl.SSLContext | None = self.config.ssl
        head_limits = head_limits or HeadLimits()
        self._protocol_class = sockd_http(
            self.config.http_protocol_class, self.config.ws_protocol_class, head_limits
        )
        #: A TLS client's handshake has as long as a request head.
        self._handshake_timeout = head_limits.timeout
        self.server = uvicorn.Server(self.config)
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
        # ``serve`` would install uvicorn's signal handlers; the worker owns its signals.
        # uvicorn exits the process when lifespan startup fails; start() reports that.
        with contextlib.suppress(SystemExit):
            await self.server._serve(sockets=[])

    def serve_socket(self, sock: socket.socket, client: Address) -> None:
        """Serve one connected client socket as if uvicorn had accepted it from ``client``."""
        loop = asyncio.get_running_loop()
        protocol = self._protocol_class(
            config=self.config,
            server_state=self.server.server_state,
            app_state=self.server.lifespan.state,
            _loop=loop,
        )
        protocol.real_client = client
        sock.setblocking(False)
        task = loop.create_task(_connect(loop, protocol, sock, self.ssl, self._handshake_timeout))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)

    @property
    def open_connections(self) -> int:
        """Client connections open now (HTTP and WebSocket alike)."""
        return len(self.server.server_state.connections)

    def shut_down(self, timeout: float) -> None:
        """Start uvicorn's graceful shutdown, waiting about ``timeout`` (whole seconds, as
        uvicorn takes it) for requests."""
        self.config.timeout_graceful_shutdown = max(0, math.ceil(timeout))
        self.server.should_exit = True

    async def wait_closed(self) -> None:
        if self._task is not None:
            await self._task


async def _connect(
    loop: asyncio.AbstractEventLoop,
    protocol: Any,
    sock: socket.socket,
    context: ssl.SSLContext | None,
    handshake_timeout: float,
) -> None:
    # With TLS the handshake happens here, in the worker, on the raw connection.
    timeout = handshake_timeout if context is not None else None
    try:
        await loop.connect_accepted_socket(
            lambda: protocol, sock, ssl=context, ssl_handshake_timeout=timeout
        )
    except (OSError, ssl.SSLError, TimeoutError):
        sock.close()  # the client went away, or failed its TLS handshake
