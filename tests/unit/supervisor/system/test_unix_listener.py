"""``--bind unix:PATH``: mode 0660, a stale file replaced, a live server never."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from sockd.config.bind import BindAddress
from sockd.errors import StartupError
from sockd.supervisor.system.listeners import bind_listeners, describe
from sockd.supervisor.system.unix_listener import bind_unix


def test_the_socket_is_born_with_mode_0660(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    with bind_unix(str(path), 16) as listener:
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
        assert describe(listener) == f"unix:{path}"
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(str(path))


def test_a_stale_socket_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    with socket.socket(socket.AF_UNIX) as dead:
        dead.bind(str(path))  # left behind: nobody listens on it
    with bind_unix(str(path), 16):
        assert stat.S_ISSOCK(path.stat().st_mode)


def test_a_live_server_is_never_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    with socket.socket(socket.AF_UNIX) as live:
        live.bind(str(path))
        live.listen()
        with pytest.raises(StartupError, match="a server already listens there"):
            bind_unix(str(path), 16)
        assert path.exists()


def test_a_file_that_is_not_a_socket_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.sock"
    path.write_text("precious")
    with pytest.raises(StartupError, match="exists and is not a socket"):
        bind_unix(str(path), 16)
    assert path.read_text() == "precious"


def test_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="its directory does not exist"):
        bind_unix(str(tmp_path / "nope" / "app.sock"), 16)


def test_the_owner_removes_its_files_and_a_handed_over_one_does_not(tmp_path: Path) -> None:
    first, second = tmp_path / "a.sock", tmp_path / "b.sock"
    listeners = bind_listeners([BindAddress.unix(str(first)), BindAddress("127.0.0.1", 0)])
    handed = bind_listeners([BindAddress.unix(str(second))])
    try:
        assert listeners.describe()[0] == f"unix:{first}"
        handed.disown()
        listeners.remove_files()
        handed.remove_files()
        assert not first.exists() and second.exists()
    finally:
        for sock in [*listeners.sockets, *handed.sockets]:
            sock.close()
    os.unlink(second)
