"""The one place that touches uvicorn internals: serving passed-in sockets.

uvicorn has no public API for "serve this already-accepted socket". Its ``Server`` runs
lifespan, the once-a-second tick and graceful shutdown with zero listeners, and its HTTP
protocol classes serve any connected socket given ``server_state`` and the lifespan
``state``. Those names (``_serve``, ``server_state``, ``lifespan.state``,
``http_protocol_class``, ``_loop``) are internals: entries of the compat list
(sockd/worker/compat/entries.py), whose guard checks them before a worker starts.

The WebSocket side uses the websockets-sansio implementation, whose connection
state (``queue``, ``writable``, ``request``, ``response``, ``start_keepalive``,
``disconnected``, ``pause_writing``) is also an internal, in this form since uvicorn
0.52.1 (write backpressure and the closing handshake came then): the class below puts
lighter queues in, lets go of the handshake once it is done, and writes a frame from
plain code when nothing waits (``send_now``, which the direct write reaches through
:func:`direct_sender`).

The client address the master determined (from a PROXY header or a trusted
X-Forwarded-For) replaces the transport's peer in ``scope["client"]`` and the access log:
both protocol classes compute ``client`` in ``connection_made``, and are subclassed here to
put the real address back. The HTTP class also bounds each request head in front of
httptools (``request_head.py``), and hands the bytes after a head to what follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import socket
import ssl
from collections.abc import Callable
from typing import Any

import uvicorn
from websockets.exceptions import InvalidState

from sockd.worker.hosting import client_errors
from sockd.worker.hosting.request_head import HeadGuard, HeadLimits, Refusal, refusal_response
from sockd.worker.hot_path.lean_queue import LeanEvent, LeanQueue

Address = tuple[str, int]


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
        self._protocol_class = _sockd_http(
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


class SockdWebSocket:
    """sockd's part of the WebSocket protocol (composed in front of uvicorn's
    websockets-sansio class): the real client address, lighter queues, the handshake let go
    once done, and :meth:`send_now`."""

    # The attributes of uvicorn's WebSocketsSansIOProtocol used here (its internals).
    queue: Any
    writable: Any
    request: Any
    response: Any
    conn: Any
    transport: Any
    disconnected: bool
    close_sent: bool
    handshake_initiated: bool
    handshake_complete: bool
    initial_response: Any
    client: Address | None

    def __init__(self, *args: Any, real_client: Address, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.real_client = real_client
        self._early = b""  # frames that came before the handshake completed
        # Same logic, a fraction of the memory (sockd/worker/hot_path/lean_queue.py).
        self.queue = LeanQueue()
        self.writable = LeanEvent()
        self.writable.set()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.client = self.real_client

    def send_now(self, data: str | bytes) -> bool:
        """Write one message frame at once, as ``send`` would; False if it cannot now.

        ``send`` is a coroutine only to wait while the transport is paused; the worker's
        direct write (sockd/worker/hot_path/direct_write.py) calls this from plain code and
        queues the packet instead when it returns False.
        """
        if (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or self.initial_response is not None
            or not self.writable.is_set()
        ):
            return False
        try:
            if isinstance(data, bytes):
                self.conn.send_binary(data)
            else:
                self.conn.send_text(data.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    def data_received(self, data: bytes) -> None:
        if self.handshake_initiated and not self.handshake_complete:
            # Frames sent before the app accepted wait for it, unread: fed to websockets
            # then, a bad one failed the connection without the close frame uvicorn expects
            # (an AssertionError, a traceback per connection).
            self._early += data
            self.transport.pause_reading()
            return
        super().data_received(data)  # type: ignore[misc]

    def handle_parser_exception(self) -> None:
        # A frame that breaks the protocol, or a message over the limit (1009).
        failed = self.conn.parser_exc
        if failed is not None:  # (uvicorn's own refusal of invalid UTF-8 is counted apart)
            client_errors.note(f"WebSocket failed: {type(failed).__name__}", failed)
            # Its traceback keeps what was being read (up to the limit, inflated) for as
            # long as the connection object lives.
            failed.__traceback__ = None
        super().handle_parser_exception()  # type: ignore[misc]

    def start_keepalive(self) -> None:
        # Called once the handshake response is written: the parsed request's and the
        # response's headers (~3 KiB) are not used again (the scope has its own copy).
        # websockets' parser keeps the request for the connection's lifetime, so its
        # headers are emptied in place.
        self.request.headers.clear()
        self.request = self.response = None
        super().start_keepalive()  # type: ignore[misc]
        early, self._early = self._early, b""
        self.transport.resume_reading()
        if early:
            self.data_received(early)


def direct_sender(asgi_send: Any) -> Callable[[str | bytes], bool] | None:
    """The ``send_now`` of the WebSocket whose ASGI ``send`` is ``asgi_send`` itself (no
    ASGI middleware in between, so none misses a frame), or None."""
    protocol = getattr(asgi_send, "__self__", None)  # a bound method of the protocol
    if isinstance(protocol, SockdWebSocket) and asgi_send == protocol.send:  # type: ignore[attr-defined]
        return protocol.send_now
    return None


def _sockd_http(http_class: type, ws_class: type | None, limits: HeadLimits) -> Any:
    """``http_class`` (and its WebSocket upgrade) showing ``real_client`` as the client, with
    each request head bounded by ``limits`` (sockd/worker/hosting/request_head.py)."""
    ws_protocol = (
        type("SockdWebSocketProtocol", (SockdWebSocket, ws_class), {}) if ws_class else None
    )

    class SockdHTTP(http_class):  # type: ignore[misc, valid-type]
        real_client: Address
        #: A refusal waiting for the answers to the requests before it.
        _refusal: tuple[int | None, str] | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.client = self.real_client
            if ws_protocol is not None:
                self.ws_protocol_class = functools.partial(
                    ws_protocol, real_client=self.real_client
                )
            self._head = HeadGuard(limits, self.loop, self._refuse)

        def data_received(self, data: bytes) -> None:
            if self._refusal is not None:
                return  # refused: what follows is not read
            # A head goes to httptools on its own, so that the bytes after it are read as
            # what they are: a body, the next request (scanned again), or the first frames
            # after a WebSocket upgrade (which uvicorn would drop).
            while self._head.reading:
                end = self._head.feed(data)
                if end is None:
                    break
                if isinstance(end, Refusal):
                    self._refuse(end.status, end.reason)
                    return
                super().data_received(data[:end])
                data = data[end:]
                protocol = self.transport.get_protocol()
                if not data or self.transport.is_closing():
                    return
                if protocol is not self:  # upgraded to WebSocket
                    protocol.data_received(data)
                    return
            super().data_received(data)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._head.expect_next()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._refusal is not None and not self._answering():
                self._refuse(*self._refusal)

        def connection_lost(self, exc: Exception | None) -> None:
            self._head.stop()
            super().connection_lost(exc)

        def _answering(self) -> bool:
            return bool(self.pipeline) or (
                self.cycle is not None and not self.cycle.response_complete
            )

        def _refuse(self, status: int | None, reason: str) -> None:
            """Answer ``status`` (None: nothing) and close, once the answers to the
            requests before are written; meanwhile nothing more is read."""
            if self.transport.is_closing():
                return
            if self._refusal is None:
                client_errors.note(
                    f"refused {status or 'silently'}: {reason}", client_errors.peer(self.client)
                )
            self._head.stop()
            if self._answering():
                self._refusal = (status, reason)
                self.transport.pause_reading()
                return
            if status is not None:
                self.transport.write(refusal_response(status, reason))
            self.transport.close()

    return SockdHTTP
