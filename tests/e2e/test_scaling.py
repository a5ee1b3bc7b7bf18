"""SIGTTIN / SIGTTOU add and remove a slot; only the keys rendezvous hashing moves change.

1,000 source addresses each open one plain connection (``GET /pid``) and note which worker
answers, at 3 workers, after SIGTTIN (4) and after SIGTTOU (3 again). Adding slot 3 moves
only addresses to the new worker, about 1/4 of them; removing it sends each of those back
to the worker it had, and nobody else moves at all.
"""

from __future__ import annotations

import asyncio
import math
import re
import signal
from pathlib import Path

import pytest

from tests.harness import (
    OPS_APP,
    SockdLauncher,
    SourceAddresses,
    run_sockd,
    sockd_status,
    worker_map,
)

WORKERS = 3
ADDRESSES = 1000
TITLE = "scale-test"

pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.mark.timeout(120)
def test_ttin_then_ttou_moves_only_the_new_slots_share(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd("--title", TITLE, app=OPS_APP, workers=WORKERS)
    sources = source_addresses(ADDRESSES)
    before = asyncio.run(worker_map(proc.port, sources))
    slots = proc.slot_pids()
    assert set(before.values()) == set(slots.values())

    mark = proc.line_count()
    proc.send_signal(signal.SIGTTIN)
    added = proc.wait_for_match(rf"worker {WORKERS} ready \(pid (\d+)\)", 30.0, mark)
    new_pid = int(added.group(1))
    assert sockd_status("--title", TITLE)["master"]["workers"] == WORKERS + 1
    grown = asyncio.run(worker_map(proc.port, sources))
    moved = [ip for ip in sources if grown[ip] != before[ip]]
    assert {grown[ip] for ip in moved} == {new_pid}, "an address moved between old workers"
    # Each address goes to the new slot with probability 1/4: allow five standard deviations.
    share = 1 / (WORKERS + 1)
    spread = 5 * math.sqrt(ADDRESSES * share * (1 - share))
    assert abs(len(moved) - ADDRESSES * share) <= spread, f"{len(moved)} of {ADDRESSES} moved"

    mark = proc.line_count()
    proc.send_signal(signal.SIGTTOU)
    proc.wait_for_match(rf"worker {WORKERS} \(pid {new_pid}\) exited", 30.0, mark)
    shrunk = asyncio.run(worker_map(proc.port, sources))
    assert shrunk == before, "after SIGTTOU every address must be back on its first worker"
    status = sockd_status("--title", TITLE)
    assert status["master"]["workers"] == WORKERS
    assert {row["slot"]: row["pid"] for row in status["workers"]} == slots
    assert not any(re.search("exited unexpectedly|killing", line) for line in proc.lines())


BROKEN_ON_DISK = 'raise RuntimeError("the release on disk is broken")\n'


@pytest.mark.timeout(120)
def test_slots_added_while_the_app_fails_to_import_leave_the_master_serving(
    sockd: SockdLauncher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source_addresses: SourceAddresses,
) -> None:
    """SIGTTIN, or ``reload -w N+1``, while the app on disk fails to import used to kill
    the master (a KeyError in the dispatcher), and every worker with it."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    source = Path(__file__).resolve().parents[1] / "apps" / "ops_app.py"
    app = tmp_path / "scaled_app.py"
    app.write_text(source.read_text())
    proc = sockd("--app-dir", str(tmp_path), "--title", TITLE, app="scaled_app:app", workers=1)
    serving = proc.slot_pids()[0]
    app.write_text(source.read_text() + BROKEN_ON_DISK)

    mark = proc.line_count()
    proc.send_signal(signal.SIGTTIN)
    given_up = proc.wait_for_line("removing slot 1", 60, mark)
    assert "failed to start 5 times in a row" in given_up and "broken" in given_up
    assert proc.proc.poll() is None, "the master serves on"
    assert asyncio.run(worker_map(proc.port, source_addresses(5))) == {
        ip: serving for ip in source_addresses(5)
    }

    scaled = run_sockd("reload", "--title", TITLE, "--workers", "2", timeout=90)
    assert scaled.returncode == 1 and "aborted" in scaled.stderr, scaled.stderr
    status = sockd_status("--title", TITLE)
    assert status["master"]["workers"] == 1
    assert [(row["slot"], row["pid"]) for row in status["workers"]] == [(0, serving)]
    assert proc.proc.poll() is None
