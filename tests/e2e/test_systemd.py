"""sockd under systemd: the notify protocol, socket activation and the unit files.

A test-owned NOTIFY_SOCKET records what the master tells systemd; systemd's own
`systemd-socket-activate` passes a listener; `systemd-analyze verify` checks the units.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.harness import (
    REPO_ROOT,
    Client,
    SockdLauncher,
    SourceAddresses,
    sockd_status,
    wait_until_sync,
)


class NotifySocket:
    """A datagram socket standing in for systemd's; records every message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode()))

    def states(self) -> list[str]:
        """The state changes, in order (READY=1, RELOADING=1, STOPPING=1)."""
        return [
            line
            for _, message in self.messages
            for line in message.splitlines()
            if line in ("READY=1", "RELOADING=1", "STOPPING=1")
        ]

    def count(self, line: str, since: float = 0.0) -> int:
        return sum(line in m.splitlines() for t, m in self.messages if t >= since)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


@pytest.fixture
def notify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    recorder = NotifySocket(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(recorder.path))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # ping every 0.5 s
    try:
        yield recorder
    finally:
        recorder.close()


def test_notify_sequence_through_start_reload_and_stop(
    sockd: SockdLauncher, notify: NotifySocket
) -> None:
    server = sockd(workers=2, wait_ready=False)
    wait_until_sync(lambda: "READY=1" in notify.states(), 30.0, "READY=1")
    ready_line = server.wait_for_line("master ready", timeout=5)
    assert ready_line, "READY=1 must come once every worker is ready"
    statuses = [m for _, m in notify.messages if m.startswith("READY=1")]
    assert "2 workers" in statuses[0]
    # The workers never talk to systemd: every message came from the master.
    for worker in psutil.Process(server.pid).children():
        assert "NOTIFY_SOCKET" not in worker.environ()

    mark = server.line_count()
    server.send_signal(signal.SIGHUP)
    server.wait_for_match(r"reload \d+ finished", 60, mark)
    wait_until_sync(lambda: notify.states().count("READY=1") == 2, 10.0, "READY=1 after reload")
    reloading = next(m for _, m in notify.messages if "RELOADING=1" in m)
    assert re.search(r"^MONOTONIC_USEC=\d+$", reloading, re.M), reloading

    assert server.terminate() == 0
    assert notify.states() == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"]


def test_watchdog_pings_only_while_workers_are_healthy(
    sockd: SockdLauncher, notify: NotifySocket
) -> None:
    server = sockd(workers=2)
    wait_until_sync(lambda: notify.count("WATCHDOG=1") >= 3, 10.0, "watchdog pings")
    victim = psutil.Process(server.slot_pids()[0])
    victim.suspend()  # its loop sends no more heartbeats
    try:
        time.sleep(7)  # heartbeats are overdue after 5 s
        quiet_since = time.monotonic()
        time.sleep(2)
        assert notify.count("WATCHDOG=1", since=quiet_since) == 0
    finally:
        victim.resume()
    resumed = time.monotonic()
    wait_until_sync(lambda: notify.count("WATCHDOG=1", since=resumed) >= 2, 10.0, "pings again")


def test_sighup_after_an_aborted_reload_still_ends_in_ready(
    sockd: SockdLauncher, notify: NotifySocket, tmp_path: Path
) -> None:
    """Each RELOADING=1 is followed by READY=1, also after a reload that was aborted (a
    failed reload used to kill the reloader, and systemd never heard READY=1 again)."""
    (tmp_path / "config").mkdir()
    bad = tmp_path / "config" / "config.prod.toml"
    server = sockd("--app-dir", str(tmp_path), app="tests.apps.ops_app:app", workers=1)
    wait_until_sync(lambda: notify.states() == ["READY=1"], 10.0, "READY=1")
    bad.write_text("[cluster]\nwrkers = 2\n")
    mark = server.line_count()
    server.send_signal(signal.SIGHUP)
    server.wait_for_line("reload aborted", 30, mark)
    bad.unlink()
    mark = server.line_count()
    server.send_signal(signal.SIGHUP)
    server.wait_for_match(r"reload \d+ finished", 60, mark)
    expected = ["READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1"]
    wait_until_sync(lambda: notify.states() == expected, 10.0, f"{expected}")


@pytest.mark.timeout(120)
def test_a_new_master_after_sigusr2_tells_systemd_its_pid(
    sockd: SockdLauncher, notify: NotifySocket
) -> None:
    server = sockd(workers=2)
    wait_until_sync(lambda: notify.states() == ["READY=1"], 10.0, "READY=1")
    server.send_signal(signal.SIGUSR2)
    took_over = server.wait_for_match(r"\[(\d+)\] \[master\] INFO took over from the old", 60)
    new_pid = int(took_over.group(1))
    try:
        wait_until_sync(
            lambda: any(f"MAINPID={new_pid}" in m for _, m in notify.messages), 10, "MAINPID="
        )
        announced = next(m for _, m in notify.messages if f"MAINPID={new_pid}" in m)
        assert "READY=1" in announced.splitlines()
        assert server.proc.wait(60) == 0
        # The old master's exit is no stop of the service.
        assert notify.states() == ["READY=1", "READY=1"]
        since = time.monotonic()  # the new master keeps systemd's watchdog fed
        wait_until_sync(lambda: notify.count("WATCHDOG=1", since) >= 2, 10, "its pings")
    finally:
        new = psutil.Process(new_pid)
        children = new.children(recursive=True)
        new.terminate()
        psutil.wait_procs([new, *children], timeout=30)
    assert notify.states()[-1] == "STOPPING=1"


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="needs systemd")
def test_socket_activation_serves_the_inherited_listener(
    sockd: SockdLauncher, free_port: Callable[[], int], source_addresses: SourceAddresses
) -> None:
    port = free_port()
    unused = free_port()
    server = sockd(
        workers=2,
        port=unused,  # ignored: an activated sockd binds nothing itself
        wait_ready=False,
        prefix=["systemd-socket-activate", "-l", f"127.0.0.1:{port}"],
    )
    server.wait_for_line(f"Listening on 127.0.0.1:{port}", timeout=10)

    async def scenario() -> str:
        # The first connection makes systemd-socket-activate start sockd.
        client = Client(port, source_addresses(1)[0], ["polling", "websocket"])
        await client.connect(timeout=30)
        try:
            return await client.call("echo", "activated")
        finally:
            await client.close()

    assert asyncio.run(scenario()) == "activated"
    listening = [
        c.laddr.port
        for c in psutil.Process(server.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening == [port]


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None, reason="needs systemd")
def test_activated_masters_are_named_and_shown_by_the_port_they_serve(
    sockd: SockdLauncher, free_port: Callable[[], int], source_addresses: SourceAddresses
) -> None:
    """Without --title, an activated sockd is sockd-PORT of the listener systemd passed (it
    used to take the configured port: two activated sockd collided) and status shows it."""
    configured = free_port()
    activated = [free_port(), free_port()]
    servers = [
        sockd(
            port=configured,
            wait_ready=False,
            prefix=["systemd-socket-activate", "-l", f"127.0.0.1:{port}"],
        )
        for port in activated
    ]

    async def first_connection(port: int) -> str:
        client = Client(port, source_addresses(1)[0], ["websocket"])
        await client.connect(timeout=30)
        try:
            return await client.call("echo", port)
        finally:
            await client.close()

    for server, port in zip(servers, activated, strict=True):
        server.wait_for_line(f"Listening on 127.0.0.1:{port}", timeout=10)
        assert asyncio.run(first_connection(port)) == port
        status = sockd_status("--title", f"sockd-{port}")
        assert status["title"] == f"sockd-{port}"
        assert status["master"]["binds"] == [f"127.0.0.1:{port}"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_unit_files_verify(tmp_path: Path) -> None:
    version = int(
        re.search(
            r"systemd (\d+)",
            subprocess.run(
                ["systemd-analyze", "--version"], capture_output=True, text=True, check=True
            ).stdout,
        ).group(1)  # type: ignore[union-attr]
    )
    service = (REPO_ROOT / "systemd" / "sockd.service").read_text()
    service = service.replace(
        "/srv/sockd/venv/bin/sockd", str(Path(sys.executable).with_name("sockd"))
    )
    if version < 253:  # the variant the unit's own comment gives for older systemd
        service = re.sub(
            r"^Type=notify-reload$",
            "Type=notify\nExecReload=/bin/kill -HUP $MAINPID",
            service,
            flags=re.MULTILINE,
        ).replace("ReloadSignal=SIGHUP\n", "")
    (tmp_path / "sockd.service").write_text(service)
    shutil.copy(REPO_ROOT / "systemd" / "sockd.socket", tmp_path / "sockd.socket")
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            str(tmp_path / "sockd.service"),
            str(tmp_path / "sockd.socket"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
