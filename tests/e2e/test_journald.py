"""Under systemd, text log lines carry their syslog priority, so ``journalctl -p err`` shows
sockd's errors: the master's and the workers' lines on a stderr that ``JOURNAL_STREAM``
names start with ``<N>`` (sd-daemon(3)); JSON lines, and a stderr that is not the
journal's, stay as they were."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.harness import ECHO_APP, REPO_ROOT, sockd_command, stop_process, wait_until_sync


def run_until_a_worker_crash(tmp_path: Path, port: int, *extra: str, journal: bool) -> list[str]:
    """sockd with stderr on a file (named as the journal's stream, or not); a worker is
    killed (an error line), then sockd stops. The file's lines."""
    log_path = tmp_path / "stderr"
    with open(log_path, "wb") as stderr:
        status = os.fstat(stderr.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}
        if not journal:
            env["JOURNAL_STREAM"] = f"{status.st_dev}:{status.st_ino + 1}"
        proc = subprocess.Popen(
            [*sockd_command(), "start", ECHO_APP, "--port", str(port), "--workers", "2",
             "--sticky", *extra],
            cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
        )  # fmt: skip
    try:
        wait_until_sync(lambda: "master ready" in log_path.read_text(), 30, "master ready")
        worker = re.search(r"worker 1 ready \(pid (\d+)\)", log_path.read_text())
        assert worker is not None
        os.kill(int(worker.group(1)), signal.SIGKILL)

        def back() -> bool:
            _, crash, after = log_path.read_text().partition("exited unexpectedly")
            return bool(crash) and "worker 1 ready" in after

        wait_until_sync(back, 30, "the worker back after its crash")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        stop_process(proc)
    return log_path.read_text().splitlines()


@pytest.mark.timeout(60)
def test_text_lines_on_the_journal_stream_carry_their_priority(
    tmp_path: Path, free_port: Any
) -> None:
    lines = run_until_a_worker_crash(tmp_path, free_port(), journal=True)
    assert lines and all(re.match(r"<[0-7]>", line) for line in lines), lines[:5]
    assert any(line.startswith("<6>") and "[master] INFO master ready" in line for line in lines)
    assert any(line.startswith("<6>") and "[worker 0] INFO" in line for line in lines)
    errors = [line for line in lines if line.startswith("<3>")]
    assert errors and all(" ERROR " in line for line in errors)
    assert any("worker 1" in line and "exited unexpectedly" in line for line in errors)


@pytest.mark.timeout(60)
def test_json_lines_and_other_streams_are_unchanged(tmp_path: Path, free_port: Any) -> None:
    json_lines = run_until_a_worker_crash(
        tmp_path, free_port(), "--log-format", "json", journal=True
    )
    assert json_lines and all(line.startswith("{") for line in json_lines), json_lines[:3]
    other = run_until_a_worker_crash(tmp_path, free_port(), journal=False)
    assert other and not any(re.match(r"<[0-7]>", line) for line in other)
