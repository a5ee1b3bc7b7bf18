"""The private network of the multi-host tests: one bridge, one namespace per machine.

::

    namespace sk<pid>-br:  bridge br0, one veth per machine, named after its role
      h1 10.0.0.11   h2 10.0.0.12   h3 10.0.0.13      sockd hosts (port 7001)
      lb 10.0.0.2                                      the balancer (HAProxy, nginx)
      redis 10.0.0.5 (+ 10.0.0.6-8 for extra servers)  redis-server
      client 10.0.0.3 + 10.0.1.1 ... 10.0.N.254        the test's clients, one address each

The addresses are the ones docs/haproxy/haproxy.cfg and docs/nginx/multi-host.conf name, so
the tests load those files as they are. They exist only inside the namespaces: no route
leads out, and nothing is added to the machine's own namespace.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.e2e.multihost.netns import NetnsError, ip, ip_batch, pids_in

PREFIX_LENGTH = 16
SOCKD_PORT = 7001
#: Where each host's master answers HAProxy's health checks (docs/haproxy/haproxy.cfg).
HEALTH_PORT = 7002
BALANCER = "10.0.0.2"
CLIENT = "10.0.0.3"
REDIS = "10.0.0.5"
#: More Redis addresses in the Redis namespace, for a Sentinel trio or a Cluster.
REDIS_EXTRA = ("10.0.0.6", "10.0.0.7", "10.0.0.8")
HOSTS = {"h1": "10.0.0.11", "h2": "10.0.0.12", "h3": "10.0.0.13"}
ROLES = {**HOSTS, "lb": BALANCER, "client": CLIENT, "redis": REDIS}


def client_sources(count: int) -> list[str]:
    """``count`` client source addresses, 10.0.1.1 upwards (254 per /24)."""
    return [f"10.0.{1 + i // 254}.{1 + i % 254}" for i in range(count)]


@dataclass
class Network:
    """The namespaces of one test run, by role (``h1``, ``lb``, ``client``, ...)."""

    run: str
    sources: list[str]
    namespaces: dict[str, str] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"{self.run}-br"

    def ns(self, role: str) -> str:
        """The namespace name of ``role``."""
        return self.namespaces[role]

    def set_link(self, role: str, up: bool) -> None:
        """Cut (or restore) ``role``'s cable: its veth end on the bridge goes down (or up)."""
        ip("link", "set", role, "up" if up else "down", namespace=self.bridge)


def _add_machine(net: Network, role: str, address: str) -> None:
    name = f"{net.run}-{role}"
    ip("netns", "add", name)
    net.namespaces[role] = name
    ip("link", "add", role, "type", "veth", "peer", "name", "eth0", "netns", name,
       namespace=net.bridge)  # fmt: skip
    ip_batch([f"link set {role} master br0", f"link set {role} up"], namespace=net.bridge)
    ip_batch(
        ["link set lo up", f"addr add {address}/{PREFIX_LENGTH} dev eth0", "link set eth0 up"],
        namespace=name,
    )


def _build(net: Network) -> None:
    ip("netns", "add", net.bridge)
    net.namespaces["br"] = net.bridge
    ip_batch(["link add br0 type bridge", "link set br0 up"], namespace=net.bridge)
    for role, address in ROLES.items():
        _add_machine(net, role, address)
    ip_batch(
        [f"addr add {a}/{PREFIX_LENGTH} dev eth0" for a in REDIS_EXTRA], namespace=net.ns("redis")
    )
    ip_batch(
        [f"addr add {a}/{PREFIX_LENGTH} dev eth0" for a in net.sources], namespace=net.ns("client")
    )


def _remove(net: Network) -> list[str]:
    """Kill what still runs in the namespaces (by pid), delete them; the problems seen."""
    problems = []
    for name in net.namespaces.values():
        for pid in pids_in(name):
            problems.append(f"pid {pid} still ran in {name}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for name in reversed(list(net.namespaces.values())):
        try:
            ip("netns", "delete", name)
        except NetnsError as exc:
            problems.append(str(exc))
    return problems


@contextlib.contextmanager
def private_network(sources: int) -> Iterator[Network]:
    """Build the network with ``sources`` client addresses; remove all of it on exit."""
    net = Network(run=f"sk{os.getpid()}", sources=client_sources(sources))
    try:
        _build(net)
        yield net
    finally:
        problems = _remove(net)
        if problems:
            print("multihost teardown: " + "; ".join(problems))
