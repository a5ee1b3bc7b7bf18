"""Settings of a cluster and of one worker, as plain data both sides can share."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sockd.errors import UserError


@dataclass(frozen=True)
class BindAddress:
    """One address the master listens on."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> BindAddress:
        """Parse ``HOST:PORT``, ``[V6]:PORT`` or ``:PORT`` (all interfaces)."""
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            raise UserError(
                f"--bind {text!r}: expected HOST:PORT, e.g. 127.0.0.1:7001 or [::1]:7001"
            )
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            _check_ip(host, text, version=6)
        elif ":" in host:
            raise UserError(f"--bind {text!r}: write IPv6 addresses in brackets, e.g. [::1]:7001")
        return cls(host or "0.0.0.0", _check_port(int(port_text), text))

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _check_ip(host: str, text: str, version: int) -> None:
    try:
        if ipaddress.ip_address(host).version != version:
            raise ValueError
    except ValueError:
        raise UserError(f"--bind {text!r}: {host!r} is not an IPv{version} address") from None


def _check_port(port: int, text: str) -> int:
    if not 0 <= port <= 65535:
        raise UserError(f"{text!r}: port must be between 0 and 65535")
    return port


@dataclass(frozen=True)
class WorkerOptions:
    """What a worker process needs to boot; passed to it as JSON."""

    #: ``MODULE:ATTR`` of a plain python-socketio app; empty for an app directory.
    app: str
    #: The app directory, or where ``MODULE:ATTR`` is imported from.
    app_dir: str = "."
    #: Config environment (``config/config.<env>.toml``).
    env: str = "prod"
    #: The effective :class:`sockd.config.schema.Settings`, as JSON-ready data.
    settings: dict[str, Any] = field(default_factory=dict)
    redis_url: str | None = None
    log_level: str = "info"
    access_log: bool = False
    graceful_timeout: float = 30.0
    #: Whether the cluster is sticky; a non-sticky multi-worker cluster only
    #: works for websocket-only apps, which the worker checks once it has the app.
    require_websocket_only: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerOptions:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class ClusterOptions:
    """Everything ``sockd start`` was asked for."""

    worker: WorkerOptions
    workers: int = 1
    sticky: bool = False
    binds: tuple[BindAddress, ...] = ()
    #: How long a connection may wait for its slot's worker before it falls
    #: back to the next slot in its rendezvous order.
    queue_timeout: float = 5.0
    #: Connections one slot may hold back while its worker is not ready.
    queue_limit: int = 4096
    #: A ready worker whose event loop sent no heartbeat for this long is killed.
    heartbeat_timeout: float = 30.0
