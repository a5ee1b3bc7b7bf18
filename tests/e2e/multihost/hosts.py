"""sockd hosts in their namespaces: started, asked, reloaded and killed as an operator would.

Each host runs ``.venv/bin/sockd start`` through ``ip netns exec`` with a runtime directory
of its own (so ``sockd status|reload --title hN`` inside the namespace finds exactly that
master), behind the balancer with the PROXY protocol, on the shared Redis. The harness's
:class:`SockdProcess` tracks the master and every worker by pid for teardown.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psutil

from tests.e2e.multihost.netns import exec_prefix
from tests.e2e.multihost.network import BALANCER, HEALTH_PORT, HOSTS, SOCKD_PORT, Network
from tests.harness import (
    REPO_ROOT,
    Finished,
    SockdProcess,
    alive,
    kill_processes,
    sockd_command,
)

APP = "tests.e2e.multihost.app:app"
WORKERS = 2


class SockdHost:
    """One test host: its namespace, address, runtime directory and current sockd."""

    def __init__(
        self,
        net: Network,
        role: str,
        runtime_dir: Path,
        redis_url: str,
        port: int = SOCKD_PORT,
        title: str | None = None,
        env: Mapping[str, str] | None = None,
        health_port: int = HEALTH_PORT,
        workers: int = WORKERS,
    ) -> None:
        self.role = role
        self.namespace = net.ns(role)
        self.address = HOSTS[role]
        self.runtime_dir = runtime_dir
        self.redis_url = redis_url
        #: Other ports and a title of its own let a second sockd run on the same test host.
        self.port = port
        self.health_port = health_port
        self.workers = workers
        self.title = title or role
        self._extra_env = dict(env or {})
        self.process: SockdProcess | None = None
        #: Every sockd this host ran, so teardown kills all of them.
        self.history: list[SockdProcess] = []

    def __repr__(self) -> str:
        return f"<host {self.role} {self.address}>"

    @property
    def env(self) -> dict[str, str]:
        return {
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "TEST_HOST_NAME": self.role,
            **self._extra_env,
        }

    def launch(self) -> SockdProcess:
        """Start ``sockd start`` in the namespace; the caller waits for it to be ready."""
        self.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        args = [
            APP, "--workers", str(self.workers), "--host", "0.0.0.0", "--port", str(self.port),
            "--sticky-key", "proxy-protocol", "--trusted-proxy", f"{BALANCER}/32",
            "--redis", self.redis_url, "--title", self.title, "--graceful-timeout", "5",
            "--health", f"0.0.0.0:{self.health_port}",
        ]  # fmt: skip
        self.process = SockdProcess(
            args, self.port, console_script=True, prefix=exec_prefix(self.namespace, self.env)
        )
        self.history.append(self.process)
        return self.process

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.proc.poll() is None

    def worker_pids(self) -> set[int]:
        """The pids of this host's live workers."""
        return set(self.process.worker_pids()) if self.process else set()

    def sockd(self, *args: str, timeout: float = 60.0) -> Finished:
        """Run ``sockd ARGS`` inside the namespace, as an operator on that host would."""
        command = [*exec_prefix(self.namespace, self.env), *sockd_command(True), *args]
        result = subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        return Finished(result.returncode, result.stdout, result.stderr)

    def status(self) -> dict[str, Any]:
        """``sockd status --json --title TITLE`` inside the namespace."""
        result = self.sockd("status", "--json", "--title", self.title, timeout=20)
        assert result.returncode == 0, f"{self}: sockd status: {result.stderr}"
        return json.loads(result.stdout)

    def kill9(self) -> float:
        """SIGKILL the master and every worker at once, as a host crash; when it happened.

        The time is ``time.monotonic()`` just before the first signal.
        """
        assert self.process is not None
        victims = [psutil.Process(self.process.pid), *self.process.descendants()]
        when = time.monotonic()
        for proc in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        psutil.wait_procs(victims, timeout=10)
        assert not [p for p in victims if alive(p)], f"{self}: survived SIGKILL"
        return when

    def kill_all(self) -> None:
        """Teardown: every process of every sockd this host ran, by pid, all at once."""
        for process in self.history:
            process.descendants()
            kill_processes(process.tracked())
            process.kill_all()
