"""``sockd top`` in a real terminal (tmux): it renders the cluster, counts events per second
while clients send them, quits on q and on Ctrl-C giving the terminal back, and says one
line when no sockd runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import (
    Client,
    SockdLauncher,
    SourceAddresses,
    run_sockd,
    sockd_command,
    wait_until_sync,
)

#: The shell prompt the tmux window shows once top gave the terminal back.
PROMPT = "top-exited:"


class Terminal:
    """One tmux session of its own (a private socket), running a shell."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed: apt-get install -y tmux", pytrace=False)
        self.socket = str(workdir / "tmux.sock")
        self.tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "30", "sh")

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def type(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "top", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "top")

    def wait_for(self, pattern: str, timeout: float = 20) -> str:
        wait_until_sync(lambda: re.search(pattern, self.screen()), timeout, repr(pattern))
        return self.screen()

    def close(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
            self.tmux("kill-server")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    try:
        yield term
    finally:
        term.close()


def top_command(*args: str) -> str:
    runtime = os.environ["XDG_RUNTIME_DIR"]
    command = " ".join([*sockd_command(), "top", *args])
    return f"XDG_RUNTIME_DIR={runtime} {command}; echo {PROMPT}$?"


@pytest.mark.timeout(60)
def test_top_renders_the_cluster_and_quits_on_q_and_ctrl_c(
    sockd: SockdLauncher, source_addresses: SourceAddresses, terminal: Terminal
) -> None:
    proc = sockd(workers=2, console_script=True)
    terminal.type(top_command("--interval", "0.3"), "Enter")
    screen = terminal.wait_for(r"2/2 ready")
    assert re.search(r"^SLOT\s+PID\s+STATE\s+CONNS\s+SESSIONS\s+EVENTS/S", screen, re.M)
    assert len(re.findall(r"^[01]\s+\d+\s+ready", screen, re.M)) == 2

    async def busy() -> None:
        client = await Client(proc.port, source_addresses(1)[0], ["websocket"]).connect()
        try:
            for n in range(400):  # about four seconds of events
                await client.call("echo", n)
                await asyncio.sleep(0.01)
            await asyncio.to_thread(terminal.wait_for, r"1 conns\s+[1-9]\d* events/s")
        finally:
            await client.close()

    asyncio.run(busy())
    terminal.type("q")
    assert f"{PROMPT}0" in terminal.wait_for(rf"{PROMPT}\d")
    terminal.type("clear", "Enter")
    terminal.type(top_command(), "Enter")
    terminal.wait_for(r"2/2 ready")
    terminal.type("C-c")
    screen = terminal.wait_for(rf"{PROMPT}\d")
    assert f"{PROMPT}0" in screen and "Traceback" not in screen


def test_top_without_a_running_sockd_is_one_line(tmp_path: Path) -> None:
    result = run_sockd("top", "--title", "nothing-here")
    assert result.returncode == 7
    assert len(result.stderr_lines()) == 1
    assert result.stderr_lines()[0].startswith("sockd: error: ")
    assert run_sockd("top").returncode != 0
