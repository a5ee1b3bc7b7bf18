"""The whole test cluster: three sockd hosts, Redis, HAProxy, and the client namespace.

The fixtures build it once for the package; each test starts from :meth:`Cluster.heal`,
which brings back whatever an earlier test broke (a killed host, a cut cable) and waits
until HAProxy sees every host up again. A test that needs hosts set up otherwise (recovery
on, one host of more workers) deploys them beside the package's with :func:`deployed`: on
other ports, on a Redis database of their own, behind a HAProxy of their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.multihost.clients import run_in
from tests.e2e.multihost.haproxy import Haproxy, config_variant, running_haproxy
from tests.e2e.multihost.hosts import WORKERS, SockdHost
from tests.e2e.multihost.network import REDIS, Network

#: HAProxy's name for each host (docs/haproxy/haproxy.cfg).
SERVER = {"h1": "host1", "h2": "host2", "h3": "host3"}
#: inter 1s, rise 2 and fall 3 in the config: a generous bound for a change of state.
HEALTH_CHANGE = 20.0


@dataclass
class Cluster:
    net: Network
    hosts: dict[str, SockdHost]
    balancer: Haproxy

    def run(self, scenario: Callable[[], Awaitable[Any]], timeout: float) -> Any:
        """Run an async scenario in the client namespace."""
        return run_in(self.net, scenario, timeout)

    def host_of(self) -> dict[int, str]:
        """worker pid -> host, for every live worker."""
        return {pid: role for role, host in self.hosts.items() for pid in host.worker_pids()}

    def wait_health(self, role: str, status: str, balancer: Haproxy | None = None) -> None:
        (balancer or self.balancer).wait_states({SERVER[role]: status}, HEALTH_CHANGE)

    def start_hosts(self, roles: list[str]) -> None:
        """Launch these hosts together, then wait until every one is ready."""
        launched = [self.hosts[role].launch() for role in roles]
        for process in launched:
            process.wait_ready(60)

    def heal(self) -> None:
        """Every host running and connected, and HAProxy seeing them all up."""
        for role in self.hosts:
            self.net.set_link(role, up=True)
        self.start_hosts([role for role, host in self.hosts.items() if not host.running])
        self.balancer.wait_states({SERVER[role]: "UP" for role in self.hosts}, HEALTH_CHANGE)


@dataclass(frozen=True)
class Deployment:
    """sockd on some of the test hosts beside the package's: its port (``/health`` on the
    next one), its Redis database, HAProxy's frontend port for it, workers and variables."""

    roles: tuple[str, ...]
    sockd_port: int
    frontend_port: int
    redis_db: int
    workers: int = WORKERS
    env: Mapping[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def deployed(net: Network, spec: Deployment, workdir: Path) -> Iterator[Cluster]:
    """The deployment running and seen up by a HAProxy of its own (the documented config
    with its servers and ports); every process killed by pid on exit, the logs printed.
    The package's Redis must be running (the ``redis_url`` fixture)."""
    url = f"redis://{REDIS}:6379/{spec.redis_db}"
    health = spec.sockd_port + 1
    hosts = {
        role: SockdHost(
            net,
            role,
            workdir / role,
            url,
            port=spec.sockd_port,
            title=f"{role}-{spec.sockd_port}",
            env=spec.env,
            health_port=health,
            workers=spec.workers,
        )
        for role in spec.roles
    }
    config = config_variant(
        spec.frontend_port,
        servers=[SERVER[role] for role in spec.roles],
        sockd_port=spec.sockd_port,
        health_port=health,
    )
    try:
        with running_haproxy(
            net.ns("lb"), workdir / "haproxy", config, spec.frontend_port
        ) as balancer:
            cluster = Cluster(net, hosts, balancer)
            cluster.heal()
            yield cluster
    finally:
        for host in hosts.values():
            host.kill_all()
        for host in hosts.values():
            for process in host.history:
                print(f"--- {host.title}: sockd {' '.join(process.args)} (pid {process.pid}) ---")
                print(process.output_tail(30))
