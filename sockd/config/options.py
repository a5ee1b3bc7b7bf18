"""Settings of a cluster and of one worker, as plain data both sides can share."""

from __future__ import annotations

import enum
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
    log_format: str = "text"
    log_file: str | None = None
    access_log: bool = False
    graceful_timeout: float = 30.0
    #: Seconds a client may take to join a namespace before it is disconnected
    #: (Node's ``connectTimeout``).
    connect_timeout: float = 45.0
    #: Whether the cluster is sticky; a non-sticky multi-worker cluster only
    #: works for websocket-only apps, which the worker checks once it has the app.
    require_websocket_only: bool = False
    #: ``--sticky-key sid``: tag session ids with the slot, send foreign sids to their owner.
    sid_routing: bool = False
    #: WebSocket permessage-deflate (compression for a deflate context per connection).
    per_message_deflate: bool = False
    #: TLS, done by the worker on the raw connection the master passed.
    certfile: str | None = None
    keyfile: str | None = None
    ca_certs: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerOptions:
        return cls(**json.loads(text))


class StickyKey(enum.StrEnum):
    """``--sticky-key``: what keeps a client on its worker."""

    ip = "ip"
    proxy_protocol = "proxy-protocol"
    forwarded = "forwarded"
    sid = "sid"


@dataclass(frozen=True)
class RoutingOptions:
    """How the master finds a connection's sticky key (``sockd/supervisor/keys``)."""

    sticky_key: str = "ip"
    #: CIDRs whose PROXY and forwarding headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    #: Longest wait for the bytes a peek needs.
    peek_timeout: float = 5.0


@dataclass(frozen=True)
class ClusterOptions:
    """Everything ``sockd start`` was asked for."""

    worker: WorkerOptions
    workers: int = 1
    sticky: bool = False
    binds: tuple[BindAddress, ...] = ()
    routing: RoutingOptions = field(default_factory=RoutingOptions)
    #: How long a connection may wait for its slot's worker before it falls
    #: back to the next slot in its rendezvous order.
    queue_timeout: float = 5.0
    #: Connections one slot may hold back while its worker is not ready.
    queue_limit: int = 4096
    #: A ready worker whose event loop sent no heartbeat for this long is killed.
    heartbeat_timeout: float = 30.0
    #: Names the control socket and pid file in the runtime directory.
    title: str = "sockd"
    daemon: bool = False
    pidfile: str | None = None
    #: Recycle a worker whose RSS passes this many megabytes, or this many seconds old.
    max_memory: int | None = None
    max_age: float | None = None
    #: ``sockd dev``: reload when a source or config file under the app directory changes.
    watch: bool = False
    #: The ``sockd start`` flags as given, so a reload reads the config files anew under them.
    flags: dict[str, Any] = field(default_factory=dict)
