"""SIGUSR2: sockd replaces its own master (a new sockd version, say) and refuses nobody.

A steady stream of new connections (20 a second, each from another 127.x address, each an
Engine.IO handshake on a fresh TCP connection) runs through the upgrade: none is refused,
none fails. The old master exits, the new one serves, answers ``sockd status`` and is named
by the pid file. A new master that cannot start leaves the old one serving, saying why. A
daemon's new master stays detached.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from tests.harness import (
    OPS_APP,
    DaemonSockd,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    alive,
    kill_processes,
    run_sockd,
    sockd_status,
    wait_until_sync,
    worker_pid_for,
)

TITLE = "upgrade-test"
#: New connections per second, and how long the stream runs before and after the upgrade.
RATE = 20
LEAD, TAIL = 2.0, 2.0
TOOK_OVER = re.compile(r"\[(\d+)\] \[master\] INFO took over from the old master \(pid (\d+)\)")

APP_SOURCE = """
import socketio
{broken}
sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)
"""


pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.fixture(autouse=True)
def no_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")


@pytest.fixture
def adopted() -> Iterator[list[psutil.Process]]:
    """Processes that outlive the master the test started (a new master and its workers),
    killed by pid at teardown."""
    processes: list[psutil.Process] = []
    try:
        yield processes
    finally:
        kill_processes(processes)


def adopt(pid: int, into: list[psutil.Process]) -> psutil.Process:
    master = psutil.Process(pid)
    into += [master, *master.children(recursive=True)]
    return master


@dataclass
class Stream:
    """New connections at a steady rate, each an Engine.IO handshake, counted."""

    port: int
    sources: list[str]
    tried: int = 0
    refused: int = 0
    failed: list[str] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            source = self.sources[self.tried % len(self.sources)]
            task = asyncio.create_task(self._handshake(source))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self.tried += 1
            await asyncio.sleep(1 / RATE)
        await asyncio.gather(*self._tasks)

    async def _handshake(self, source: str) -> None:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0)), 10
            )
        except ConnectionRefusedError:
            self.refused += 1
            return
        except (OSError, TimeoutError) as exc:
            self.failed.append(f"{source}: connect: {exc!r}")
            return
        try:
            writer.write(
                b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
                b"Host: sockd\r\nConnection: close\r\n\r\n"
            )
            response = await asyncio.wait_for(reader.read(), 10)
            head, _, body = response.partition(b"\r\n\r\n")
            # The open packet (chunked): 0{"sid":...}
            if not head.startswith(b"HTTP/1.1 200") or b'0{"sid":' not in body:
                self.failed.append(f"{source}: {response[:120]!r}")
        except (OSError, TimeoutError) as exc:
            self.failed.append(f"{source}: {exc!r}")
        finally:
            writer.close()


def new_master_pid(proc: SockdProcess, old: int, timeout: float = 60.0) -> int:
    match = proc.wait_for_match(TOOK_OVER, timeout)
    assert int(match.group(2)) == old
    return int(match.group(1))


@pytest.mark.timeout(120)
def test_usr2_replaces_the_master_without_refusing_a_connection(
    sockd: SockdLauncher,
    tmp_path: Path,
    adopted: list[psutil.Process],
    source_addresses: SourceAddresses,
) -> None:
    pidfile = tmp_path / "sockd.pid"
    proc = sockd("--title", TITLE, "--pidfile", str(pidfile), app=OPS_APP, workers=2)
    old_pid = proc.pid
    old_workers = set(proc.slot_pids().values())
    *streamed, last = source_addresses(2001)
    stream = Stream(proc.port, streamed)

    async def scenario() -> int:
        stop = asyncio.Event()
        running = asyncio.create_task(stream.run(stop))
        await asyncio.sleep(LEAD)
        before = stream.tried
        proc.send_signal(signal.SIGUSR2)
        new_pid = await asyncio.to_thread(new_master_pid, proc, old_pid)
        adopt(new_pid, adopted)
        exit_code = await asyncio.to_thread(proc.proc.wait, 60)
        assert exit_code == 0, "the old master exits as after a graceful stop"
        assert stream.tried > before, "no connection was tried during the upgrade"
        await asyncio.sleep(TAIL)
        stop.set()
        await running
        return new_pid

    new_pid = asyncio.run(scenario())
    print(
        f"USR2: {stream.tried} connections tried, {stream.refused} refused, "
        f"{len(stream.failed)} failed"
    )
    assert stream.tried >= (LEAD + TAIL) * RATE
    assert stream.refused == 0, f"{stream.refused} of {stream.tried} connections refused"
    assert stream.failed == [], f"{len(stream.failed)} failed; first: {stream.failed[:3]}"

    assert not any(alive(psutil.Process(p)) for p in old_workers if psutil.pid_exists(p))
    status = sockd_status("--title", TITLE)
    assert status["master"]["pid"] == new_pid
    assert int(pidfile.read_text()) == new_pid
    new_workers = {row["pid"] for row in status["workers"]}
    assert len(new_workers) == 2 and not new_workers & old_workers
    served_by = asyncio.run(worker_pid_for(proc.port, last))
    assert served_by in new_workers
    assert psutil.Process(served_by).ppid() == new_pid

    stopped = run_sockd("stop", "--title", TITLE, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert not pidfile.exists()


@pytest.mark.timeout(90)
def test_a_new_master_that_cannot_start_leaves_the_old_one_serving(
    sockd: SockdLauncher, tmp_path: Path, adopted: list[psutil.Process]
) -> None:
    source = tmp_path / "upgrade_app.py"
    source.write_text(APP_SOURCE.format(broken=""))
    proc = sockd("--app-dir", str(tmp_path), "--title", TITLE, app="upgrade_app:app", workers=1)
    source.write_text(APP_SOURCE.format(broken='raise RuntimeError("broken release")'))
    mark = proc.line_count()
    proc.send_signal(signal.SIGUSR2)
    started = proc.wait_for_match(r"started a new master \(pid (\d+)\)", 15, mark)
    with_error = proc.wait_for_line("upgrade failed", 60, mark)
    assert f"the new master (pid {started.group(1)}) failed to start" in with_error
    assert "broken release" in with_error and "this master keeps serving" in with_error
    wait_until_sync(
        lambda: (
            not psutil.pid_exists(int(started.group(1)))
            or not alive(psutil.Process(int(started.group(1))))
        ),
        15,
        "the failed new master to be gone",
    )
    assert proc.proc.poll() is None
    assert sockd_status("--title", TITLE)["master"]["pid"] == proc.pid
    source.write_text(APP_SOURCE.format(broken=""))  # fixed: the next USR2 goes through
    proc.send_signal(signal.SIGUSR2)
    new_pid = new_master_pid(proc, proc.pid)
    adopt(new_pid, adopted)
    assert proc.proc.wait(60) == 0
    assert sockd_status("--title", TITLE)["master"]["pid"] == new_pid


@pytest.mark.timeout(120)
def test_a_daemons_new_master_stays_detached(
    tmp_path: Path,
    adopted: list[psutil.Process],
    free_port: Callable[[], int],
    source_addresses: SourceAddresses,
) -> None:
    port = free_port()
    daemon = DaemonSockd([OPS_APP, "--port", str(port), "--title", TITLE], tmp_path)
    try:
        assert daemon.start.returncode == 0, daemon.start.stderr
        old = psutil.Process(daemon.pid)
        os.kill(daemon.pid, signal.SIGUSR2)

        def holder() -> int | None:
            # The old master removes its pid file before the new one writes its own.
            try:
                text = daemon.pidfile.read_text().strip()
            except FileNotFoundError:
                return None
            return int(text) if text.isdigit() and int(text) != daemon.pid else None

        wait_until_sync(lambda: holder() is not None, 60, "the new master to hold the pid file")
        new_pid = holder()
        assert new_pid is not None
        new = adopt(new_pid, adopted)
        wait_until_sync(lambda: not alive(old), 60, "the old master to exit")
        assert os.getsid(new.pid) == os.getsid(daemon.pid) != os.getsid(0)
        assert new.terminal() is None
        assert new.ppid() != os.getpid()
        served_by = asyncio.run(worker_pid_for(port, source_addresses(1)[0]))
        assert served_by in {c.pid for c in new.children()}
        stopped = run_sockd("stop", "--title", TITLE, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        assert not alive(new)
    finally:
        daemon.kill_all()
        print(daemon.log()[-6000:])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(p) for p in adopted):
        time.sleep(0.1)
