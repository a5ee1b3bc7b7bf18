"""Every setting sockd knows, its type and its default.

Config files use the snake_case names of egg-socket.io's keys. A key that is
not listed here is an error naming the key, so a typo never passes silently.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Development environments: a missing session secret is tolerated there.
DEVELOPMENT_ENVS = ("local", "dev", "development", "unittest")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterSettings(Strict):
    """The master's settings (``[cluster]``); each has a ``sockd start`` flag of the same name."""

    workers: int = Field(1, ge=1, le=1024)
    sticky: bool = False
    host: str = "127.0.0.1"
    port: int = Field(7001, ge=0, le=65535)
    bind: tuple[str, ...] = ()
    graceful_timeout: float = Field(30.0, ge=0)
    connect_timeout: float = Field(45.0, gt=0)
    per_message_deflate: bool = False
    timeout: float = Field(30.0, ge=1)
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    access_log: bool = False
    log_format: Literal["text", "json"] = "text"
    log_file: str | None = None
    daemon: bool = False
    pidfile: str | None = None
    # The title names files in the runtime directory, hence the characters allowed.
    title: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    max_memory: int | None = Field(None, ge=1)
    max_age: float | None = Field(None, ge=1)
    sticky_key: Literal["ip", "proxy-protocol", "forwarded", "sid"] = "ip"
    trusted_proxy: tuple[str, ...] = ()
    peek_timeout: float = Field(5.0, gt=0)
    certfile: str | None = None
    keyfile: str | None = None
    ca_certs: str | None = None

    @field_validator("trusted_proxy")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            try:
                ipaddress.ip_network(text.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{text!r} is not an address or CIDR network") from None
        return value


class EngineIOSettings(Strict):
    """``[io.init]``: options handed to python-engineio (egg-socket.io's ``init``).

    Times are in seconds, as python-engineio takes them.
    """

    #: Seconds between the server's pings (Node's ``pingInterval``, there in ms).
    ping_interval: float = Field(25.0, gt=0)
    #: Seconds a client has to answer a ping before it counts as gone.
    ping_timeout: float = Field(20.0, gt=0)
    #: Largest message a client may send, in bytes.
    max_http_buffer_size: int = Field(1_000_000, gt=0)
    #: Whether polling clients may upgrade to WebSocket.
    allow_upgrades: bool = True
    #: Compress long-polling responses.
    http_compression: bool = True
    #: Smallest response, in bytes, worth compressing.
    compression_threshold: int = Field(1024, ge=0)
    #: Name of the session cookie Engine.IO sets (or a table of cookie attributes); none by default.
    cookie: str | dict[str, Any] | None = None
    #: Origins allowed to connect: a list, "*" for any; by default the same origin only.
    cors_allowed_origins: str | list[str] | None = None
    #: Allow credentials (cookies) in cross-origin requests.
    cors_credentials: bool = True
    #: Transports clients may use; ["websocket"] alone needs no stickiness.
    transports: list[Literal["polling", "websocket"]] = ["polling", "websocket"]
    #: Close sessions whose client stopped answering pings.
    monitor_clients: bool = True
    #: URL path of the Socket.IO endpoint (Node's ``path``).
    path: str = "socket.io"

    def server_options(self) -> dict[str, Any]:
        """Keyword arguments for ``socketio.AsyncServer``."""
        return self.model_dump(exclude={"path"})


class NamespaceSettings(Strict):
    """``[io.namespace."/ns"]``: the middleware of one namespace, by module name."""

    connection_middleware: tuple[str, ...] = ()
    packet_middleware: tuple[str, ...] = ()


class RedisSettings(Strict):
    """``[io.redis]``: the cluster bus through Redis, as a URL or as its parts."""

    #: The whole address (redis://, rediss://, unix://); wins over the parts below.
    url: str | None = None
    #: Redis host.
    host: str = "127.0.0.1"
    #: Redis port.
    port: int = Field(6379, ge=1, le=65535)
    #: Redis password.
    password: str | None = None
    #: Redis database number.
    db: int = Field(0, ge=0)

    def to_url(self) -> str:
        if self.url:
            return self.url
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


class IOSettings(Strict):
    init: EngineIOSettings = EngineIOSettings()
    namespace: dict[str, NamespaceSettings] = {}
    redis: RedisSettings | None = None
    #: Options for each middleware factory, by middleware name (``[io.middleware.auth]``).
    middleware: dict[str, dict[str, Any]] = {}

    @field_validator("namespace")
    @classmethod
    def _namespaces_start_with_slash(
        cls, value: dict[str, NamespaceSettings]
    ) -> dict[str, NamespaceSettings]:
        for name in value:
            if not name.startswith("/"):
                raise ValueError(f'namespace {name!r} must start with "/", e.g. "/{name}"')
        return value


class SessionSettings(Strict):
    """``[session]``: the signed session cookie read at the handshake."""

    #: Signing key; required outside development environments (local, dev, unittest).
    secret: str | None = None
    #: Name of the session cookie (Starlette's default).
    cookie: str = "session"
    #: Oldest cookie signature accepted, in seconds (Starlette's default: 14 days).
    max_age: int = Field(14 * 24 * 3600, gt=0)


class Settings(Strict):
    """The effective settings of one sockd."""

    cluster: ClusterSettings = ClusterSettings()
    io: IOSettings = IOSettings()
    session: SessionSettings = SessionSettings()
