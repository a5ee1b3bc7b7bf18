"""The control client's failures each have an exit code of their own."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sockd.control.client import NoAnswer, request
from sockd.control.runtime import NotRunning


def test_a_master_that_does_not_answer_in_time_is_not_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "silent.sock"
    with socket.socket(socket.AF_UNIX) as silent:
        silent.bind(str(path))
        silent.listen()
        with pytest.raises(NoAnswer, match="no answer from sockd") as caught:
            request(path, {"command": "reload"}, timeout=0.05)
    assert caught.value.exit_code == 4


def test_nobody_there_is_not_running(tmp_path: Path) -> None:
    with pytest.raises(NotRunning) as caught:
        request(tmp_path / "none.sock", {"command": "status"}, timeout=1)
    assert caught.value.exit_code == 7
