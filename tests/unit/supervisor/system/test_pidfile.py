"""The pid file that is also a lock: held by a live master, taken over when stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from sockd.supervisor.system.pidfile import PidFile, PidFileHeld, running_pid


def test_a_held_pid_file_names_its_holder_and_cannot_be_taken(tmp_path: Path) -> None:
    path = tmp_path / "sockd.pid"
    holder = PidFile(path)
    holder.acquire()
    holder.write(4242)
    assert running_pid(path) == 4242
    with pytest.raises(PidFileHeld) as refused:
        PidFile(path).acquire()
    assert refused.value.pid == 4242
    holder.release()
    assert not path.exists()
    assert running_pid(path) is None


def test_a_stale_pid_file_is_not_running_and_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "sockd.pid"
    path.write_text("4242\n")  # left by a master that was killed: nobody holds its lock
    assert running_pid(path) is None
    taker = PidFile(path)
    taker.acquire()
    taker.write(77)
    assert path.read_text() == "77\n"
    taker.release()
