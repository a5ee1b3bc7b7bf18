"""Starting and stopping server processes by pid, with every wait bounded."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


class StartError(RuntimeError):
    """A system did not come up; the message carries the tail of its log."""


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(
    command: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """Start ``command`` in ``cwd`` (the repo root), stdout and stderr into ``log``."""
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    child_env.update(env or {})
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def log_tail(log: Path, lines: int = 20) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def wait_for(
    predicate: Callable[[], bool],
    what: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll ``predicate`` until true; fail after ``timeout`` or when ``process`` exits."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if process is not None and process.poll() is not None:
            tail = log_tail(log) if log else ""
            raise StartError(f"{what}: process exited with {process.returncode}\n{tail}")
        if time.monotonic() >= deadline:
            tail = log_tail(log) if log else ""
            raise StartError(f"{what}: not ready after {timeout:.0f}s\n{tail}")
        time.sleep(0.05)


def stop_all(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 10.0) -> None:
    """SIGTERM every process by pid at once, wait for all (bounded), SIGKILL the rest.

    In parallel: each graceful stop may wait out its own drain bound, and one after the
    other they would add up between measurements.
    """
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(5)


def kill_leftovers(processes: Sequence[psutil.Process], timeout: float = 5.0) -> None:
    """SIGKILL the ones still alive (psutil checks create time, so no reused pid is hit)."""
    alive = []
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                proc.kill()
                alive.append(proc)
    psutil.wait_procs(alive, timeout=timeout)


class ProcessGroup:
    """The processes of one system: started one by one, stopped together by pid."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def spawn(
        self,
        command: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` (see :func:`spawn`) as a member of the group."""
        process = spawn(command, log, env, cwd)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """Stop every member at once, then kill any descendant left over (sockd workers)."""
        descendants = [c for p in self.processes for c in children(p.pid)]
        stop_all(self.processes)
        kill_leftovers(descendants)


@contextlib.contextmanager
def process_group() -> Iterator[ProcessGroup]:
    """A :class:`ProcessGroup` stopped when the block exits, however it exits."""
    group = ProcessGroup()
    try:
        yield group
    finally:
        group.stop()


def children(pid: int) -> list[psutil.Process]:
    """All descendants of ``pid`` right now."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
