"""``[io.*]``: the Socket.IO side of an app, egg-socket.io's ``io`` config in snake_case."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from sockd.config import checks
from sockd.config.setting import setting

Transport = Literal["polling", "websocket"]


@dataclass(frozen=True)
class EngineIOSettings:
    """``[io.init]``: handed to python-engineio (times in seconds, as it takes them)."""

    ping_interval: float = setting(
        25.0,
        check=checks.above(0),
        help="Seconds between the server's pings (Node's `pingInterval`, there in ms).",
    )
    ping_timeout: float = setting(
        20.0,
        check=checks.above(0),
        help="Seconds a client has to answer a ping before it counts as gone.",
    )
    max_http_buffer_size: int = setting(
        1_000_000, check=checks.above(0), help="Largest message a client may send, in bytes."
    )
    allow_upgrades: bool = setting(True, help="Whether polling clients may upgrade to WebSocket.")
    http_compression: bool = setting(True, help="Compress long-polling responses.")
    compression_threshold: int = setting(
        1024, check=checks.at_least(0), help="Smallest response, in bytes, worth compressing."
    )
    cookie: str | Mapping[str, Any] | None = setting(
        None,
        help="Name of the cookie Engine.IO sets (or a table of cookie attributes); "
        "none by default.",
    )
    cors_allowed_origins: str | tuple[str, ...] | None = setting(
        None,
        help='Origins allowed to connect: a list, or "*" for any; by default the same origin only.',
    )
    cors_credentials: bool = setting(
        True, help="Allow credentials (cookies) in cross-origin requests."
    )
    transports: tuple[Transport, ...] = setting(
        ("polling", "websocket"),
        check=checks.not_empty,
        help='Transports clients may use; ["websocket"] alone needs no stickiness.',
    )
    monitor_clients: bool = setting(
        True, help="Close sessions whose client stopped answering pings."
    )
    path: str = setting("socket.io", help="URL path of the Socket.IO endpoint (Node's `path`).")

    def server_options(self) -> dict[str, Any]:
        """Keyword arguments for ``socketio.AsyncServer``."""
        options = asdict(self)
        del options["path"]
        options["transports"] = list(self.transports)
        if isinstance(self.cors_allowed_origins, tuple):
            options["cors_allowed_origins"] = list(self.cors_allowed_origins)
        return options


@dataclass(frozen=True)
class RedisSettings:
    """``[io.redis]``: the cluster bus through Redis; off unless a source sets it."""

    url: str | None = setting(
        None,
        flags=("--redis",),
        metavar="URL",
        check=checks.redis_url,
        secret=True,
        help="Share rooms and broadcasts through Redis at this address (redis://, "
        "rediss://, unix://, redis+sentinel://, redis+cluster://), so several hosts can "
        "serve one app; wins over the parts below.",
    )
    host: str = setting("127.0.0.1", help="Redis host.")
    port: int = setting(6379, check=checks.between(1, 65535), help="Redis port.")
    password: str | None = setting(None, secret=True, help="Redis password.")
    db: int = setting(0, check=checks.at_least(0), help="Redis database number.")
    bus: Literal["streams", "pubsub"] = setting(
        "streams",
        help='How workers share messages through Redis: "streams" loses nothing a worker '
        'can still read after an outage; "pubsub" is python-socketio\'s channel, shared '
        "with plain python-socketio servers.",
    )
    stream_maxlen: int = setting(
        10_000,
        check=checks.at_least(100),
        help="Entries a stream keeps (MAXLEN ~): how far behind a worker may fall and "
        "still catch up.",
    )
    queue_limit: int = setting(
        10_000,
        check=checks.at_least(1),
        help="Bus messages a worker keeps while Redis is away; past it new ones are "
        "dropped, and counted.",
    )

    def to_url(self) -> str:
        if self.url:
            return self.url
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


def redacted_url(url: str) -> str:
    """``url`` with its password hidden, for logs and errors (also with several hosts, as
    Sentinel and Cluster URLs have)."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    if not (at and colon and password):
        return url
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hosts}"))


@dataclass(frozen=True)
class RecoverySettings:
    """``[io.recovery]``: connection state recovery (Node's ``connectionStateRecovery``)."""

    max_disconnection_duration: float | None = setting(
        None,
        check=checks.above(0),
        help="Seconds a disconnected client may come back with its socket id, rooms, session "
        "data and the packets it missed (Node's `maxDisconnectionDuration`, there in ms); "
        "recovery is off when unset.",
    )
    skip_middlewares: bool = setting(
        True,
        help="A recovered socket skips the connection middleware and keeps its connection: "
        "no disconnect hooks at the loss, once when the session ends for good.",
    )
    max_sessions: int = setting(
        100_000,
        check=checks.above(0),
        help="Sessions kept for recovery at most (connected and disconnected); the oldest "
        "disconnected one goes first.",
    )
    max_buffer_bytes: int = setting(
        64 * 1024 * 1024,
        check=checks.above(0),
        help="Bytes of stored packets kept for recovery at most (the master's buffer; with "
        "--redis, the stream's length bounds it); the oldest go first.",
    )
    max_missed_packets: int = setting(
        10_000,
        check=checks.above(0),
        help="Packets one recovery may replay at most; a client that missed more gets a "
        "fresh session.",
    )


@dataclass(frozen=True)
class NamespaceSettings:
    """``[io.namespace."/ns"]``: the middleware of one namespace, by module name."""

    connection_middleware: tuple[str, ...] = ()
    packet_middleware: tuple[str, ...] = ()
