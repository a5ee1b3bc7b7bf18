"""Rules between settings, checked once every source is merged.

Each error names where the values involved came from (``--sticky-key forwarded``,
``SOCKD_STICKY_KEY=forwarded``, ``config/config.prod.toml: [cluster] sticky_key = ...``)
and how to set the one that is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sockd.config.app_target import AppTarget
from sockd.config.given import ConfigError, Given, phrase
from sockd.config.io import EngineIOSettings
from sockd.config.registry import BY_NAME, REGISTRY, Settings, value_of, with_values
from sockd.config.session import DEVELOPMENT_ENVS


@dataclass(frozen=True)
class Facts:
    """The merged settings, where each value came from, and what is being served."""

    settings: Settings
    given: Mapping[str, Given]
    target: AppTarget
    env: str

    def value(self, name: str) -> Any:
        return value_of(self.settings, BY_NAME[name])

    def written(self, name: str) -> str:
        """How the user wrote the value of ``name`` (or that it is the default)."""
        return phrase(BY_NAME[name], self.given.get(name), self.value(name))

    @staticmethod
    def ways(name: str) -> str:
        return BY_NAME[name].ways_to_set()


def apply_rules(
    settings: Settings, given: Mapping[str, Given], target: AppTarget, env: str
) -> Settings:
    """``settings`` with what they imply; a ConfigError for what cannot work."""
    if settings.cluster.sticky_key != "ip":  # any key but the plain IP asks for stickiness
        settings = with_values(settings, {"cluster.sticky": True})
    facts = Facts(settings, given, target, env)
    for rule in RULES:
        rule(facts)
    return settings


def _trusted_proxies_for_headers(facts: Facts) -> None:
    key = facts.value("cluster.sticky_key")
    # A Unix socket's peers count as trusted proxies: its file mode decides who connects.
    unix = any(bind.is_unix for bind in facts.settings.cluster.binds)
    if key in ("proxy-protocol", "forwarded") and not facts.value("cluster.trusted_proxy"):
        if unix:
            return
        raise ConfigError(
            f"{facts.written('cluster.sticky_key')} needs "
            f"{facts.ways('cluster.trusted_proxy')}: the proxies whose headers count"
        )


def _tls_hides_the_request(facts: Facts) -> None:
    key = facts.value("cluster.sticky_key")
    if facts.value("cluster.certfile") and key in ("forwarded", "sid"):
        raise ConfigError(
            f"{facts.written('cluster.sticky_key')} reads the HTTP request, which TLS in the "
            f"workers ({facts.written('cluster.certfile')}) hides from the master: end TLS at "
            "the proxy, or use --sticky-key ip or proxy-protocol"
        )


def _certificate_and_key(facts: Facts) -> None:
    certfile, keyfile = facts.value("cluster.certfile"), facts.value("cluster.keyfile")
    if keyfile and not certfile:
        raise ConfigError(
            f"{facts.written('cluster.keyfile')} needs {facts.ways('cluster.certfile')}"
        )
    if certfile and not keyfile and not _pem_has_key(certfile):
        raise ConfigError(
            f"{facts.written('cluster.certfile')} holds no private key: "
            f"set {facts.ways('cluster.keyfile')}"
        )
    if facts.value("cluster.ca_certs") and not certfile:
        raise ConfigError(
            f"{facts.written('cluster.ca_certs')} needs {facts.ways('cluster.certfile')}"
        )


def _pem_has_key(certfile: str) -> bool:
    """A certificate file may hold its private key too (then --keyfile is optional)."""
    try:
        return b"PRIVATE KEY-----" in Path(certfile).read_bytes()
    except OSError:
        return False


def _daemon_needs_a_log_file(facts: Facts) -> None:
    if facts.value("cluster.daemon") and not facts.value("cluster.log_file"):
        raise ConfigError(
            f"{facts.written('cluster.daemon')} needs {facts.ways('cluster.log_file')}: "
            "a daemon has no terminal to log to"
        )


def _session_secret(facts: Facts) -> None:
    if not facts.target.is_directory_app or facts.env in DEVELOPMENT_ENVS:
        return
    if facts.value("session.secret") is None:
        raise ConfigError(
            f"[session] secret is not set for env {facts.env!r}: set it in "
            f"config/config.{facts.env}.toml or in ${BY_NAME['session.secret'].variable} "
            f"(only development envs {', '.join(DEVELOPMENT_ENVS)} may go without)"
        )


def _app_layout_only(facts: Facts) -> None:
    """A plain AsyncServer takes these options in code; say so rather than ignore them."""
    if facts.target.is_directory_app:
        return
    because = "applies to apps in the sockd app layout; a MODULE:ATTR app passes these "
    because += "options to socketio.AsyncServer itself"
    defaults = EngineIOSettings()
    for declared in REGISTRY:
        changed = declared.table == "io.init" and (
            facts.value(declared.name) != getattr(defaults, declared.key)
        )
        if changed:
            raise ConfigError(f"{facts.written(declared.name)}: [io.init] {because}")
    for table in ("namespace", "middleware"):
        if getattr(facts.settings.io, table):
            raise ConfigError(f"[io.{table}] in the config files {because}")


def _recovery_needs_one_order(facts: Facts) -> None:
    redis = facts.settings.io.redis
    if facts.value("io.recovery.max_disconnection_duration") is None or redis is None:
        return
    if redis.bus == "pubsub":
        raise ConfigError(
            f"{facts.written('io.recovery.max_disconnection_duration')} needs "
            f'[io.redis] bus = "streams" ({facts.written("io.redis.bus")}): recovery '
            "numbers stored packets in the stream's one order, which pub/sub does not have"
        )


RULES: tuple[Callable[[Facts], None], ...] = (
    _trusted_proxies_for_headers,
    _tls_hides_the_request,
    _certificate_and_key,
    _daemon_needs_a_log_file,
    _session_secret,
    _app_layout_only,
    _recovery_needs_one_order,
)
