"""The systems under test, each started fresh on loopback and stopped by pid.

- ``uvicorn``: one plain uvicorn process (the single-process ceiling);
- ``nginx-N``: nginx ``ip_hash`` in front of N single-worker uvicorn servers sharing a
  private redis-server through python-socketio's ``AsyncRedisManager``;
- ``node-N``: Node's socket.io in a ``node:cluster`` of N workers, the primary handing each
  connection to a worker by a hash of the client IP, rooms shared through
  ``@socket.io/cluster-adapter`` (``bench/node/server.js``): sockd's design, in Node;
- ``sockd-N-ipc`` / ``sockd-N-redis``: sockd with N workers over its IPC bus or Redis
  (``sockd-1`` is one worker over IPC, for the master-overhead target);
- ``sockd-N-ipc@base``: ``sockd-N-ipc`` from another checkout (``--baseline DIR``);
- ``sockd-N-ipc-metrics``: the same with ``--metrics``, scraped every second (Prometheus's
  default is every 15 s) while it serves, for the cost of metrics (issue 17).

The Python ones serve ``bench/app.py`` and run the same uvicorn defaults (httptools,
websockets); the Node one serves the same events with socket.io's defaults.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil

from bench import nginx_conf, node_deps
from bench.procs import ROOT, StartError, free_port, process_group, wait_for
from bench.redis_server import start_redis

START_TIMEOUT = 60.0
#: How often the metrics system is scraped while it serves.
SCRAPE_INTERVAL = 1.0
_PROBE = (
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
)


@dataclass
class Running:
    """A started system: where clients connect and which processes make it up."""

    name: str
    port: int
    #: Processes that accept client TCP before the app sees it: sockd's master, nginx.
    front: list[psutil.Process] = field(default_factory=list)
    #: Every server-side process (for memory and CPU): front, workers, Redis.
    servers: list[psutil.Process] = field(default_factory=list)
    #: The processes running the app (uvicorn, sockd's workers, nginx's upstreams).
    workers: list[psutil.Process] = field(default_factory=list)


def probe(port: int) -> bool:
    """Whether an Engine.IO handshake on ``port`` succeeds right now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            sock.sendall(_PROBE)
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        return data.startswith(b"HTTP/1.1 200") and b'"sid"' in data
    except OSError:
        return False


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _uvicorn_command(port: int) -> list[str]:
    return _python(
        "-m", "uvicorn", "bench.app:app", "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
        "--timeout-graceful-shutdown", "1",
    )  # fmt: skip


class System:
    """A way to serve bench/app.py; :meth:`run` starts it fresh for one measurement."""

    name = "system"
    #: The scenarios this system takes part in (None: all of them).
    only: frozenset[str] | None = None

    def takes_part(self, scenario: str) -> bool:
        """Whether this system runs ``scenario``."""
        return self.only is None or scenario in self.only

    @contextlib.contextmanager
    def run(self, tmp: Path) -> Iterator[Running]:
        """Start fresh with its files in ``tmp``, yield it serving, stop it all by pid."""
        raise NotImplementedError
        yield  # pragma: no cover


class Uvicorn(System):
    """``python -m uvicorn bench.app:app --loop uvloop --http httptools``, one process."""

    name = "uvicorn"

    @contextlib.contextmanager
    def run(self, tmp: Path) -> Iterator[Running]:
        port, log = free_port(), tmp / "uvicorn.log"
        with process_group() as group:
            process = group.spawn(_uvicorn_command(port), log)
            wait_for(lambda: probe(port), self.name, START_TIMEOUT, process, log)
            server = psutil.Process(process.pid)
            yield Running(self.name, port, [], [server], [server])


#: The recovery window of the ``-recovery`` systems (Node's example's two minutes).
RECOVERY_WINDOW = "120"


class Sockd(System):
    """``sockd start bench.app:sio --workers N --sticky`` over its IPC bus or Redis, with
    ``--metrics`` scraped every second if ``metrics``, with connection state recovery on
    for ``sockd-N-BUS-recovery``; run from the checkout ``tree`` (its name ending ``@base``)
    instead of this one, to compare a change with its base in one run."""

    def __init__(
        self,
        workers: int,
        redis: bool,
        only: frozenset[str] | None = None,
        metrics: bool = False,
        recovery: bool = False,
        tree: Path | None = None,
    ) -> None:
        self.workers = workers
        self.redis = redis
        self.only = only
        self.metrics = metrics
        self.recovery = recovery
        bus = "redis" if redis else "ipc"
        self.name = "sockd-1" if workers == 1 and not redis else f"sockd-{workers}-{bus}"
        if metrics:
            self.name += "-metrics"
        if recovery:
            self.name += "-recovery"
        self.tree = tree
        if tree is not None:
            self.name += "@base"

    @contextlib.contextmanager
    def run(self, tmp: Path) -> Iterator[Running]:
        with process_group() as group:
            extra: list[str] = []
            redis_procs: list[psutil.Process] = []
            if self.redis:
                url, redis_proc = start_redis(group, tmp)
                extra, redis_procs = ["--redis", url], [redis_proc]
            if self.metrics:
                metrics_port = free_port()
                extra += ["--metrics", f"127.0.0.1:{metrics_port}"]
            port, log = free_port(), tmp / "sockd.log"
            command = _python(
                "-m", "sockd", "start", "bench.app:sio", "--workers", str(self.workers),
                "--sticky", "--host", "127.0.0.1", "--port", str(port), "--log-level", "info",
                "--graceful-timeout", "1", *extra,
            )  # fmt: skip
            env = {"SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION": RECOVERY_WINDOW}
            cwd = self.tree or ROOT  # ``python -m``: the working directory comes first
            process = group.spawn(command, log, env if self.recovery else None, cwd)

            def ready() -> bool:
                return "master ready" in log.read_text(errors="replace")

            wait_for(ready, self.name, START_TIMEOUT, process, log)
            wait_for(lambda: probe(port), f"{self.name} handshake", 10.0, process, log)
            master = psutil.Process(process.pid)
            workers = master.children(recursive=True)
            if len(workers) != self.workers:
                raise StartError(
                    f"{self.name}: {len(workers)} worker processes, not {self.workers}"
                )
            running = Running(self.name, port, [master], [master, *workers, *redis_procs], workers)
            if not self.metrics:
                yield running
                return
            with scraping(metrics_port, SCRAPE_INTERVAL):
                yield running


class Nginx(System):
    """nginx ``ip_hash`` + N uvicorn + Redis: python-socketio's documented deployment."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.name = f"nginx-{workers}"

    @contextlib.contextmanager
    def run(self, tmp: Path) -> Iterator[Running]:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with process_group() as group:
            url, redis_proc = start_redis(group, tmp)
            ports = [free_port() for _ in range(self.workers)]
            logs = [tmp / f"uvicorn-{i}.log" for i in range(self.workers)]
            started = [
                group.spawn(_uvicorn_command(p), log, {"BENCH_REDIS_URL": url})
                for p, log in zip(ports, logs, strict=True)
            ]
            for p, log, proc in zip(ports, logs, started, strict=True):
                wait_for(partial(probe, p), f"uvicorn on {p}", START_TIMEOUT, proc, log)
            backends = [psutil.Process(proc.pid) for proc in started]
            port = free_port()
            tmp.chmod(0o755)  # nginx's workers run unprivileged when we are root
            conf = tmp / "nginx.conf"
            conf.write_text(nginx_conf.render(tmp, port, ports))
            log = tmp / "nginx.log"
            command = [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]
            process = group.spawn(command, log)
            wait_for(lambda: probe(port), self.name, START_TIMEOUT, process, tmp / "error.log")
            master = psutil.Process(process.pid)
            front = [master, *master.children()]
            yield Running(self.name, port, front, [*front, *backends, redis_proc], backends)


class NodeCluster(System):
    """``node bench/node/server.js --workers N``: socket.io 4.8 on a node:cluster."""

    def __init__(self, workers: int, profile_dir: Path | None = None) -> None:
        self.workers = workers
        self.name = f"node-{workers}"
        #: Where workers write a CPU profile between two SIGUSR2 (bench.profile), if set.
        self.profile_dir = profile_dir

    @contextlib.contextmanager
    def run(self, tmp: Path) -> Iterator[Running]:
        node = node_deps.node_binary()
        if node is None:
            raise StartError(f"{self.name}: node is not on PATH")
        with process_group() as group:
            port, log = free_port(), tmp / "node.log"
            command = [node, str(node_deps.SERVER), "--port", str(port)]
            env = {"BENCH_NODE_PROFILE_DIR": str(self.profile_dir)} if self.profile_dir else {}
            process = group.spawn([*command, "--workers", str(self.workers)], log, env)

            def ready() -> bool:
                return "node cluster ready" in log.read_text(errors="replace")

            wait_for(ready, self.name, START_TIMEOUT, process, log)
            wait_for(lambda: probe(port), f"{self.name} handshake", 10.0, process, log)
            primary = psutil.Process(process.pid)
            workers = primary.children()
            if len(workers) != self.workers:
                raise StartError(
                    f"{self.name}: {len(workers)} worker processes, not {self.workers}"
                )
            yield Running(self.name, port, [primary], [primary, *workers], workers)


def nginx_available() -> bool:
    """Whether an nginx binary is installed (the baseline is skipped, saying so, if not)."""
    return shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


@contextlib.contextmanager
def scraping(port: int, interval: float) -> Iterator[None]:
    """GET /metrics every ``interval`` seconds from a thread, as Prometheus would."""
    stop = threading.Event()

    def scrape() -> None:
        url = f"http://127.0.0.1:{port}/metrics"
        while not stop.wait(interval):
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as reply:
                reply.read()

    thread = threading.Thread(target=scrape, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
