"""Every setting sockd knows, its type and its default.

Config files use the snake_case names of egg-socket.io's keys. A key that is
not listed here is an error naming the key, so a typo never passes silently.
"""

from __future__ import annotations

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
    timeout: float = Field(30.0, ge=1)
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    access_log: bool = False


class EngineIOSettings(Strict):
    """``[io.init]``: options handed to python-engineio (egg-socket.io's ``init``).

    Times are in seconds, as python-engineio takes them.
    """

    ping_interval: float = Field(25.0, gt=0)
    ping_timeout: float = Field(20.0, gt=0)
    max_http_buffer_size: int = Field(1_000_000, gt=0)
    allow_upgrades: bool = True
    http_compression: bool = True
    compression_threshold: int = Field(1024, ge=0)
    cookie: str | dict[str, Any] | None = None
    cors_allowed_origins: str | list[str] | None = None
    cors_credentials: bool = True
    transports: list[Literal["polling", "websocket"]] = ["polling", "websocket"]
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

    url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(6379, ge=1, le=65535)
    password: str | None = None
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

    #: Signing key; required outside development environments.
    secret: str | None = None
    cookie: str = "session"
    #: Oldest cookie signature accepted, in seconds (Starlette's default: 14 days).
    max_age: int = Field(14 * 24 * 3600, gt=0)


class Settings(Strict):
    """The effective settings of one sockd."""

    cluster: ClusterSettings = ClusterSettings()
    io: IOSettings = IOSettings()
    session: SessionSettings = SessionSettings()
