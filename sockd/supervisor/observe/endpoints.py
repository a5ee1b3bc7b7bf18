"""``--metrics`` and ``--health``: which listener answers which path, with what.

Both may name the same address: one listener then answers both paths. They come and go
with the master's title (``presence.py``): bound at its start, released to the master that
replaces it at SIGUSR2, closed last at a stop, so the health check answers 503 for as long
as the workers drain.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.process_collector import ProcessCollector

from sockd.config.bind import BindAddress
from sockd.config.cluster import ClusterSettings
from sockd.supervisor.observe.collector import ClusterCollector
from sockd.supervisor.observe.health import Health
from sockd.supervisor.system.http_endpoints import HttpEndpoint, Response, Routes

METRICS_PATH = "/metrics"
#: The text format every Prometheus reads (what generate_latest writes for sockd's names;
#: newer prometheus_client releases call the same text 1.0.0).
TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"
HEALTH_PATH = "/health"


def metrics_registry(collector: ClusterCollector) -> CollectorRegistry:
    """The cluster's metrics, and the master process's own (``process_*``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    ProcessCollector(registry=registry)
    return registry


class Endpoints:
    """The HTTP listeners the settings ask for (none by default)."""

    def __init__(
        self, cluster: ClusterSettings, registry: CollectorRegistry, health: Health
    ) -> None:
        self._registry = registry
        self._health = health
        wanted: dict[BindAddress, tuple[Routes, list[str]]] = {}
        for address, path, answer, flag in (
            (cluster.metrics, METRICS_PATH, self.metrics, "--metrics"),
            (cluster.health, HEALTH_PATH, self.health, "--health"),
        ):
            if address is not None:
                routes, flags = wanted.setdefault(address, ({}, []))
                routes[path] = answer
                flags.append(flag)
        self._listeners = [
            HttpEndpoint(address, routes, " and ".join(flags))
            for address, (routes, flags) in wanted.items()
        ]

    async def start(self) -> None:
        started: list[HttpEndpoint] = []
        try:
            for listener in self._listeners:
                await listener.start()
                started.append(listener)
        except BaseException:
            for listener in started:
                await listener.close()
            raise

    async def close(self) -> None:
        for listener in self._listeners:
            await listener.close()

    def metrics(self) -> Response:
        return 200, TEXT_FORMAT, generate_latest(self._registry)

    def health(self) -> Response:
        answer = self._health.answer()
        return answer.code, "application/json", answer.body()
