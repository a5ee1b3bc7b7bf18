"""``[cluster]``: the master's settings, each with a flag of ``start``, ``dev`` and ``config``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sockd.config import checks
from sockd.config.bind import BindAddress, TcpAddress
from sockd.config.setting import setting

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]
LogFormat = Literal["text", "json"]
StickyKey = Literal["ip", "proxy-protocol", "forwarded", "sid"]


@dataclass(frozen=True)
class ClusterSettings:
    workers: int = setting(
        1,
        flags=("-w", "--workers"),
        metavar="N",
        check=checks.between(1, 1024),
        help="Worker processes.",
    )
    sticky: bool = setting(
        False,
        flags=("--sticky",),
        reloadable=False,
        help="Route each client to a fixed worker (by --sticky-key); needed with more than "
        "one worker unless the app allows only the WebSocket transport.",
    )
    host: str = setting(
        "127.0.0.1",
        flags=("--host",),
        check=checks.host,
        reloadable=False,
        help="Address to listen on.",
    )
    port: int = setting(
        7001,
        flags=("--port",),
        metavar="PORT",
        check=checks.between(0, 65535),
        reloadable=False,
        help="Port to listen on.",
    )
    bind: tuple[BindAddress, ...] = setting(
        (),
        flags=("--bind",),
        metavar="ADDRESS",
        reloadable=False,
        help="Listen here instead of --host and --port; repeatable ([::1]:7001 for IPv6, "
        "unix:PATH for a proxy on this host).",
    )
    graceful_timeout: float = setting(
        30.0,
        flags=("--graceful-timeout",),
        metavar="S",
        check=checks.at_least(0),
        help="Seconds workers get to drain at a stop or a reload before they are killed.",
    )
    connect_timeout: float = setting(
        45.0,
        flags=("--connect-timeout",),
        metavar="S",
        check=checks.above(0),
        help="Close a client that joins no namespace within this many seconds "
        "(Node's connectTimeout).",
    )
    per_message_deflate: bool = setting(
        False,
        flags=("--per-message-deflate",),
        help="Compress WebSocket messages (costs memory per connection).",
    )
    timeout: float = setting(
        30.0,
        flags=("--timeout",),
        metavar="S",
        check=checks.at_least(1),
        help="Kill and restart a worker whose event loop sent no heartbeat this long.",
    )
    log_level: LogLevel = setting("info", flags=("--log-level",), help="Log level.")
    access_log: bool = setting(False, flags=("--access-log",), help="Log every HTTP request.")
    log_format: LogFormat = setting(
        "text",
        flags=("--log-format",),
        reloadable=False,
        help="Log lines as text or as one JSON object each.",
    )
    log_file: str | None = setting(
        None,
        flags=("--log-file",),
        metavar="PATH",
        check=checks.absolute_path,
        reloadable=False,
        help="Append every process's logs to this file instead of stderr; SIGUSR1 reopens it.",
    )
    daemon: bool = setting(
        False,
        flags=("--daemon",),
        reloadable=False,
        help="Run in the background (needs --log-file); sockd start returns once every "
        "worker is ready, or fails with the reason.",
    )
    pidfile: str | None = setting(
        None,
        flags=("--pidfile",),
        metavar="PATH",
        check=checks.absolute_path,
        reloadable=False,
        help="Write the master's pid here; the file is locked while sockd runs.",
    )
    title: str | None = setting(
        None,
        flags=("--title",),
        metavar="NAME",
        # It names files in the runtime directory, hence the characters allowed.
        check=checks.matches(
            r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", "letters, digits, '.', '_' or '-' (up to 64)"
        ),
        reloadable=False,
        help="Name of this sockd for stop, reload and status; by default sockd-PORT, from "
        "the port it serves. A second start with a title in use is refused.",
    )
    max_memory: int | None = setting(
        None,
        flags=("--max-memory",),
        metavar="MB",
        check=checks.at_least(1),
        help="Replace a worker gracefully once its RSS passes this many MB.",
    )
    max_age: float | None = setting(
        None,
        flags=("--max-age",),
        metavar="S",
        check=checks.at_least(1),
        help="Replace a worker gracefully after this many seconds (plus up to 10%).",
    )
    sticky_key: StickyKey = setting(
        "ip",
        flags=("--sticky-key",),
        reloadable=False,
        help="What keeps a client on its worker: its IP, the PROXY protocol header or the "
        "X-Forwarded-For of a trusted proxy, or its Engine.IO session id (any but ip "
        "implies --sticky).",
    )
    trusted_proxy: tuple[str, ...] = setting(
        (),
        flags=("--trusted-proxy",),
        metavar="CIDR",
        check=checks.networks,
        reloadable=False,
        help="Peers whose PROXY or X-Forwarded-For headers are believed; repeatable.",
    )
    peek_timeout: float = setting(
        5.0,
        flags=("--peek-timeout",),
        metavar="S",
        check=checks.above(0),
        reloadable=False,
        help="Seconds the master waits for a PROXY header or a request head.",
    )
    max_per_address: int | None = setting(
        None,
        flags=("--max-per-address",),
        metavar="N",
        check=checks.at_least(1),
        reloadable=False,
        help="Connections one client address may have open at once (nginx limit_conn, "
        "HAProxy src_conn_cur), counted from hand-off until the worker closes them; more are "
        "closed at once. Trusted proxies are exempt. Off by default.",
    )
    max_pending: int = setting(
        10000,
        flags=("--max-pending",),
        metavar="N",
        check=checks.at_least(1),
        reloadable=False,
        help="Connections the master may hold at once before handing them to a worker (in "
        "a peek or a slot's queue); at the cap it stops accepting, and new clients wait in "
        "the listen backlog (HAProxy maxconn). Lowered to fit the master's descriptor limit.",
    )
    header_timeout: float = setting(
        10.0,
        flags=("--header-timeout",),
        metavar="S",
        check=checks.above(0),
        help="Seconds a worker gives a connection to send a complete request head (and a "
        "TLS client its handshake), from its hand-off or from the first byte of a kept-alive "
        "request; then 408 and close (nginx client_header_timeout, Node headersTimeout).",
    )
    keep_alive_timeout: float = setting(
        5.0,
        flags=("--keep-alive-timeout",),
        metavar="S",
        check=checks.above(0),
        help="Seconds an HTTP connection may stay idle between requests (Node "
        "keepAliveTimeout, uvicorn --timeout-keep-alive).",
    )
    max_header_line: int = setting(
        8190,
        flags=("--max-header-line",),
        metavar="BYTES",
        check=checks.at_least(256),
        help="Longest request line (414) or header line (431) a worker reads (gunicorn "
        "limit_request_field_size, nginx large_client_header_buffers).",
    )
    max_header_size: int = setting(
        16384,
        flags=("--max-header-size",),
        metavar="BYTES",
        check=checks.at_least(1024),
        help="Largest request head, request line and headers together; larger is refused "
        "with 431 before it is buffered (Node maxHeaderSize).",
    )
    max_headers: int = setting(
        100,
        flags=("--max-headers",),
        metavar="N",
        check=checks.at_least(8),
        help="Most header lines in one request; more is refused with 431 (gunicorn "
        "limit_request_fields).",
    )
    max_json_depth: int = setting(
        100,
        flags=("--max-json-depth",),
        metavar="N",
        check=checks.between(2, 500),
        help="Deepest nesting of arrays and objects in a Socket.IO packet; a deeper one "
        "closes the connection as malformed (Ruby's JSON max_nesting).",
    )
    certfile: str | None = setting(
        None,
        flags=("--certfile",),
        metavar="PATH",
        check=checks.existing_file,
        help="TLS certificate (PEM, may hold the key too); the workers do the handshake.",
    )
    keyfile: str | None = setting(
        None,
        flags=("--keyfile",),
        metavar="PATH",
        check=checks.existing_file,
        help="TLS private key (PEM).",
    )
    ca_certs: str | None = setting(
        None,
        flags=("--ca-certs",),
        metavar="PATH",
        check=checks.existing_file,
        help="CA bundle: require client certificates signed by it.",
    )
    metrics: TcpAddress | None = setting(
        None,
        flags=("--metrics",),
        metavar="HOST:PORT",
        reloadable=False,
        help="Serve Prometheus metrics at http://HOST:PORT/metrics, answered by the master "
        "with every worker's figures; off by default.",
    )
    health: TcpAddress | None = setting(
        None,
        flags=("--health",),
        metavar="HOST:PORT",
        reloadable=False,
        help="Answer load balancers' checks at http://HOST:PORT/health: 200 while workers "
        "serve; 503 until all are ready at boot, while none is, from a stop on, or while "
        "Redis is unreachable.",
    )

    @property
    def binds(self) -> tuple[BindAddress, ...]:
        """Where the master listens: ``bind``, or else ``host`` and ``port``."""
        return self.bind or (BindAddress(self.host, self.port),)
