"""The whole test cluster: three sockd hosts, Redis, HAProxy, and the client namespace.

The fixtures build it once for the package; each test starts from :meth:`Cluster.heal`,
which brings back whatever an earlier test broke (a killed host, a cut cable) and waits
until HAProxy sees every host up again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.e2e.multihost.clients import run_in
from tests.e2e.multihost.haproxy import Haproxy
from tests.e2e.multihost.hosts import SockdHost
from tests.e2e.multihost.network import Network

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
        self.balancer.wait_states(dict.fromkeys(SERVER.values(), "UP"), HEALTH_CHANGE)
