"""The whole test cluster: three sockd hosts, Redis, HAProxy, and the client namespace.

The fixtures build it once for the package; each test starts from :meth:`Cluster.heal`,
which brings back whatever an earlier test broke (a killed host, a cut cable) and waits
until HAProxy sees every host up again.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.multihost.clients import run_in
from tests.e2e.multihost.haproxy import Haproxy
from tests.e2e.multihost.hosts import SockdHost
from tests.e2e.multihost.netns import call_in, exec_prefix
from tests.e2e.multihost.network import REDIS, Network
from tests.harness import stop_process

REDIS_PORT = 6379
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


def _redis_pong(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_ready(net: Network, address: str, port: int) -> bool:
    """Whether a redis-server answers PING at ``address:port``, asked from the client side."""
    return call_in(net.ns("client"), _redis_pong, address, port, timeout=5)


@contextlib.contextmanager
def running_redis(
    net: Network,
    workdir: Path,
    address: str = REDIS,
    port: int = REDIS_PORT,
    extra: Sequence[str] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """redis-server in the Redis namespace on ``address:port``; stopped by pid."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server")
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        *exec_prefix(net.ns("redis")), binary, "--bind", address, "--port", str(port),
        "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", str(workdir),
        *extra,
    ]  # fmt: skip
    log_path = workdir / f"redis-{address}-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while not redis_ready(net, address, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not answer:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield proc
    finally:
        stop_process(proc)
