"""A daemonized sockd driven over its control socket: start, status, a refused twin, stop.

``sockd start --daemon`` returns once the workers serve, and the master runs detached;
the control socket is 0600 in a 0700 directory; a second start with the same title or the
same pid file is refused; ``sockd status`` shows real figures that move as clients come
and go; ``sockd stop`` returns only once every process of the daemon is gone, and a stop
that finds nothing running says so with exit code 7.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.harness import (
    BROKEN_APP,
    OPS_APP,
    DaemonSockd,
    SockdLauncher,
    SourceAddresses,
    alive,
    open_clients,
    run_sockd,
    sockd_status,
    wait_until,
    wait_until_sync,
)

WORKERS = 2
CLIENTS = 8
TITLE = "ctl-test"

pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.fixture
def daemons() -> Iterator[list[DaemonSockd]]:
    started: list[DaemonSockd] = []
    try:
        yield started
    finally:
        for daemon in started:
            daemon.kill_all()
            print(f"--- {' '.join(daemon.command)} ---\n{daemon.log()[-6000:]}")


def one_error_line(result: Any, code: int) -> str:
    """The run failed with ``code`` and said why in exactly one ``sockd: error:`` line."""
    assert result.returncode == code, f"exit {result.returncode}, stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr_lines()
    assert len(lines) == 1 and lines[0].startswith("sockd: error:"), result.stderr
    return lines[0]


def totals(status: dict[str, Any], field: str) -> int:
    return sum(row.get(field) or 0 for row in status["workers"])


@pytest.mark.timeout(120)
def test_daemon_is_started_watched_and_stopped_over_the_control_socket(
    runtime_dir: Path,
    tmp_path: Path,
    daemons: list[DaemonSockd],
    free_port: Callable[[], int],
    source_addresses: SourceAddresses,
) -> None:
    port = free_port()
    daemon = DaemonSockd(
        [OPS_APP, "--workers", str(WORKERS), "--sticky", "--port", str(port), "--title", TITLE],
        tmp_path,
    )
    daemons.append(daemon)
    assert daemon.start.returncode == 0, f"{daemon.start.stderr}\n{daemon.log()}"
    assert f"sockd {TITLE!r} serving on 127.0.0.1:{port}" in daemon.start.stdout
    # Detached: its own session, and not our child (its launcher already exited).
    master = psutil.Process(daemon.pid)
    assert os.getsid(daemon.pid) != os.getsid(0)
    assert master.ppid() != os.getpid()
    workers = [p for p in daemon.processes() if p.pid != daemon.pid]
    assert len(workers) == WORKERS

    control = runtime_dir / "sockd" / f"{TITLE}.sock"
    assert stat.S_ISSOCK(control.stat().st_mode)
    assert stat.S_IMODE(control.stat().st_mode) == 0o600
    assert stat.S_IMODE(control.parent.stat().st_mode) == 0o700

    # A second sockd with the same title, or with the same pid file, is refused.
    twin = run_sockd("start", OPS_APP, "--port", str(free_port()), "--title", TITLE)
    line = one_error_line(twin, 3)
    assert "already running" in line and str(daemon.pid) in line
    same_pidfile = run_sockd(
        "start", OPS_APP, "--port", str(free_port()), "--title", "ctl-other",
        "--pidfile", str(daemon.pidfile),
    )  # fmt: skip
    line = one_error_line(same_pidfile, 3)
    assert str(daemon.pidfile) in line and str(daemon.pid) in line
    assert int(daemon.pidfile.read_text()) == daemon.pid, "the refused start took the pid file"

    idle = sockd_status("--title", TITLE)
    assert {row["pid"] for row in idle["workers"]} == {w.pid for w in workers}
    assert all(row["state"] == "ready" and row["serving"] for row in idle["workers"])
    assert all(row["rss"] > 0 for row in idle["workers"])
    assert idle["master"]["pid"] == daemon.pid
    assert totals(idle, "sessions") == 0

    async def with_clients() -> dict[str, Any]:
        sources = source_addresses(CLIENTS)
        async with open_clients(port, sources, ["websocket"]):
            busy: dict[str, Any] = {}

            def sessions_seen() -> bool:
                busy.update(sockd_status("--title", TITLE))
                return totals(busy, "sessions") == CLIENTS

            await wait_until(sessions_seen, 15.0, f"status to count {CLIENTS} sessions", 0.3)
            table = run_sockd("status", "--title", TITLE)
        assert table.returncode == 0, table.stderr
        assert "SESSIONS" in table.stdout
        assert all(str(w.pid) in table.stdout for w in workers), table.stdout
        return busy

    busy = asyncio.run(with_clients())
    assert totals(busy, "connections") >= CLIENTS
    assert totals(busy, "new_connections") >= CLIENTS
    assert busy["master"]["accepted"] >= CLIENTS
    assert sum(row["share"] for row in busy["workers"]) == pytest.approx(1.0)
    # Gone clients leave the figures.
    asyncio.run(
        wait_until(
            lambda: totals(sockd_status("--title", TITLE), "sessions") == 0,
            15.0,
            "status to count no session once the clients left",
            0.3,
        )
    )

    processes = daemon.processes()
    assert len(processes) == WORKERS + 1
    stopped = run_sockd("stop", "--title", TITLE, timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    # At the moment stop returns, nothing of the daemon may be left.
    assert [p.pid for p in processes if alive(p)] == []
    assert not daemon.pidfile.exists()
    assert not control.exists()

    line = one_error_line(run_sockd("stop", "--title", TITLE), 7)
    assert TITLE in line and "no sockd" in line
    # By title: without one, status would also look in /run/sockd, where a service of
    # this machine may run.
    one_error_line(run_sockd("status", "--title", TITLE), 7)


@pytest.mark.timeout(90)
def test_daemon_that_cannot_start_says_why_and_leaves_nothing(
    runtime_dir: Path, tmp_path: Path, daemons: list[DaemonSockd], free_port: Callable[[], int]
) -> None:
    """The launcher waits for the daemon's verdict: a broken app is one error line, exit 3."""
    daemon = DaemonSockd(
        [BROKEN_APP, "--port", str(free_port()), "--title", "ctl-broken"], tmp_path
    )
    daemons.append(daemon)
    line = one_error_line(daemon.start, 3)
    assert "does_not_exist_xyz" in line
    assert "does_not_exist_xyz" in daemon.log(), "the daemon's log tells it too"
    assert not daemon.pidfile.exists()
    assert list((runtime_dir / "sockd").iterdir()) == []

    def daemon_gone() -> bool:
        """No process shows the title (the daemon exits right after its verdict)."""
        return not any(
            "[ctl-broken]" in " ".join(p.info["cmdline"] or [])
            for p in psutil.process_iter(["cmdline"])
        )

    wait_until_sync(daemon_gone, 10.0, "the failed daemon to exit")


@pytest.mark.timeout(90)
@pytest.mark.skipif(os.geteuid() != 0, reason="a master in /run/sockd needs root here")
def test_a_shell_with_its_own_runtime_dir_finds_a_service_in_run_sockd(
    sockd: SockdLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """systemd gives the service RUNTIME_DIRECTORY=/run/sockd; a user's shell derives
    $XDG_RUNTIME_DIR/sockd, finds no socket there, and looks in /run/sockd."""
    title = f"ctl-service-{os.getpid()}"
    system = Path("/run/sockd")
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(system))
    try:
        proc = sockd("--title", title, app=OPS_APP)
        monkeypatch.delenv("RUNTIME_DIRECTORY")
        assert (system / f"{title}.sock").exists()
        assert sockd_status("--title", title)["master"]["pid"] == proc.pid
        reloaded = run_sockd("reload", "--title", title, timeout=60)
        assert reloaded.returncode == 0, reloaded.stderr
        stopped = run_sockd("stop", "--title", title, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        assert proc.proc.poll() == 0
    finally:
        for leftover in system.glob(f"{title}.*"):
            leftover.unlink()


@pytest.mark.timeout(90)
def test_a_reload_without_an_answer_in_time_has_an_exit_code_of_its_own(
    sockd: SockdLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOW_START_SECONDS", "5")
    proc = sockd("--title", TITLE, app="tests.apps.slow_start_app:app", ready_timeout=60)
    late = run_sockd("reload", "--title", TITLE, "--timeout", "1", timeout=30)
    line = one_error_line(late, 4)
    assert "no answer from sockd" in line
    # The roll goes on in the master, and ends well.
    proc.wait_for_match(r"reload 1 finished", 60)
