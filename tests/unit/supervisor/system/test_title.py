"""A title names the files of a running sockd; by default it comes from what it serves."""

from __future__ import annotations

from pathlib import Path

import pytest

from sockd.control.runtime import Instance
from sockd.errors import StartupError
from sockd.supervisor.system.pidfile import running_pid
from sockd.supervisor.system.title import TitleClaim, default_title


@pytest.mark.parametrize(
    ("listener", "title"),
    [
        ("127.0.0.1:7001", "sockd-7001"),
        ("[::1]:8443", "sockd-8443"),
        ("unix:/run/sockd-app/chat.sock", "sockd-chat"),
        ("unix:/tmp/we ird$name.sock", "sockd-we-ird-name"),
    ],
)
def test_default_title_from_the_first_listener(listener: str, title: str) -> None:
    assert default_title(listener) == title


def test_a_title_and_a_pid_file_are_held_together_and_released_together(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "app.pid"
    first = TitleClaim(Instance("chat", tmp_path), str(pidfile))
    first.acquire()
    assert running_pid(tmp_path / "chat.pid") and running_pid(pidfile)
    twin = TitleClaim(Instance("chat", tmp_path), None)
    with pytest.raises(StartupError, match="a sockd titled 'chat' is already running"):
        twin.acquire()
    other = TitleClaim(Instance("other", tmp_path), str(pidfile))
    with pytest.raises(StartupError, match="belongs to a running sockd"):
        other.acquire()
    assert not (tmp_path / "other.pid").exists(), "all or nothing"
    first.release()
    assert not pidfile.exists() and not (tmp_path / "chat.pid").exists()
    other.acquire()  # a released title can be claimed by the next master
    other.release()
