"""What the master and a worker are started with: the settings and the app they serve."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sockd.config.app_target import AppTarget
from sockd.config.cluster import ClusterSettings
from sockd.config.command_line import CommandLine
from sockd.config.registry import Settings, with_values
from sockd.config.serialize import settings_from_data, settings_to_data


@dataclass(frozen=True)
class WorkerOptions:
    """What a worker needs; the first frame of its control channel carries it (not argv,
    where ``ps`` would show its secrets)."""

    settings: Settings
    app: AppTarget
    #: Config environment (``config/config.<env>.toml``), as ``ctx.app.env``.
    env: str

    @property
    def cluster(self) -> ClusterSettings:
        return self.settings.cluster

    @property
    def require_websocket_only(self) -> bool:
        """Several workers without stickiness only work for WebSocket-only apps, which the
        worker checks once it has the app."""
        return self.cluster.workers > 1 and not self.cluster.sticky

    @property
    def sid_routing(self) -> bool:
        """``--sticky-key sid``: tag session ids with the slot, send foreign sids to their owner."""
        return self.cluster.sticky_key == "sid"

    @property
    def redis_url(self) -> str | None:
        return self.settings.io.redis.to_url() if self.settings.io.redis else None

    def to_wire(self) -> bytes:
        body: dict[str, Any] = {
            "app": self.app.module_spec,
            "root": str(self.app.root),
            "env": self.env,
            "settings": settings_to_data(self.settings),
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_wire(cls, payload: bytes) -> WorkerOptions:
        body = json.loads(payload)
        target = AppTarget(body["app"], Path(body["root"]))
        return cls(settings_from_data(body["settings"]), target, body["env"])


@dataclass(frozen=True)
class ClusterOptions:
    """Everything ``sockd start`` (or ``dev``) was asked for."""

    worker: WorkerOptions
    #: The command line as given, so a reload reads the config files anew under it.
    flags: CommandLine
    #: ``sockd dev``: reload when a source or config file under the app directory changes.
    watch: bool = False
    #: The title the master runs under: ``[cluster] title``, or the one the master derives
    #: when that is not set (None until the master has decided).
    title: str | None = None
    #: How long a connection may wait for its slot's worker before it falls back to the
    #: next slot in its rendezvous order (the master's, not a setting).
    queue_timeout: float = 5.0
    #: Connections one slot may hold back while its worker is not ready.
    queue_limit: int = 4096

    @property
    def settings(self) -> Settings:
        return self.worker.settings

    @property
    def cluster(self) -> ClusterSettings:
        return self.worker.settings.cluster

    def with_cluster(self, **values: Any) -> ClusterOptions:
        """The same with ``[cluster]`` values replaced: ``options.with_cluster(workers=3)``."""
        settings = with_values(self.settings, {f"cluster.{k}": v for k, v in values.items()})
        return dataclasses.replace(self, worker=dataclasses.replace(self.worker, settings=settings))
