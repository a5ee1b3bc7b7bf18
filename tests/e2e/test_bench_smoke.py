"""The benchmark suite runs and reports: ``python -m bench --quick`` prints a table with
numbers for every system (the Node cluster too, when node is on PATH) and checks every
target. No timing assertion (timing claims live in the benchmark's ratios, never in tests);
the one hard check is a correctness one: sockd loses no long-polling session.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import psutil
import pytest

from tests.harness import REPO_ROOT, kill_processes

#: The quick run takes under a minute on an idle 2-core machine; other test runs share it.
RUN_BOUND = 200.0
N = 2


def _nginx_installed() -> bool:
    return shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


def _node_installed() -> bool:
    return shutil.which("node") is not None


def _run_bench(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the suite (bounded); on timeout interrupt it so it stops its servers by pid."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=RUN_BOUND)
    except subprocess.TimeoutExpired:
        descendants: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=20)
        proc.kill()
        out, err = proc.communicate(timeout=10)
        kill_processes(descendants)
        pytest.fail(f"python -m bench --quick ran over {RUN_BOUND:.0f}s:\n{err[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.timeout(RUN_BOUND + 60)
def test_quick_benchmark_reports_every_system(tmp_path: Path) -> None:
    nginx = _nginx_installed()
    report = tmp_path / "bench.json"
    args = ["--quick", "--workers", str(N), "--json", str(report)]
    if not nginx:
        warnings.warn(
            "nginx is not installed: the nginx baseline was NOT run (apt-get install -y nginx; "
            ".ci/run does this)",
            stacklevel=1,
        )
        args.append("--no-nginx")
    node = _node_installed()
    if not node:
        warnings.warn(
            "node is not on PATH: the Node cluster baseline was NOT run (apt-get install -y "
            "nodejs npm; .ci/run does this)",
            stacklevel=1,
        )
        args.append("--no-node")
    done = _run_bench(args)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-4000:]}\nstderr:\n{done.stderr[-4000:]}"

    systems = ["uvicorn", "sockd-1", f"sockd-{N}-ipc", f"sockd-{N}-redis"]
    if nginx:
        systems.append(f"nginx-{N}")
    if node:
        systems.append(f"node-{N}")
        assert "Node cluster baseline is SKIPPED" not in done.stdout, done.stdout
    for system in systems:  # a table row: system, then median, min, max as numbers
        row = rf"^.*\s{re.escape(system)}\s+[\d,.]+\s+[\d,.]+\s+[\d,.]+\s+\d+"
        assert re.search(row, done.stdout, re.MULTILINE), f"no row for {system}:\n{done.stdout}"

    data = json.loads(report.read_text())
    medians = data["medians"]
    for system in systems:
        assert math.isfinite(medians["storm_per_s"][system]), system
    every_scenario = [s for s in systems if s != "sockd-1"]  # sockd-1: the storm only
    keys = (
        "idle_kib",
        "polling_per_s",
        "echo_per_s",
        "echo_p99_ms",
        "fanout_max_per_s",
        "rooms_per_s",
    )
    for key in keys:
        for system in every_scenario:
            assert math.isfinite(medians[key][system]), (key, system)
    for system in (f"sockd-{N}-ipc", f"sockd-{N}-redis"):
        assert medians["polling_unknown"][system] == 0, "sockd lost a long-polling session"

    statuses = re.findall(r"^(PASS|FAIL|n/a) ", done.stdout, re.MULTILINE)
    assert len(statuses) == len(data["targets"]) > 0
    if nginx and node:
        assert "n/a" not in statuses, done.stdout
