"""Finding a running sockd: its runtime directory first, then /run/sockd (a systemd
service's, seen from a shell whose XDG_RUNTIME_DIR derives another directory)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sockd.control import runtime
from sockd.control.runtime import Instance, NotRunning, locate, search_dirs
from sockd.errors import UserError
from sockd.supervisor.system.title import TitleClaim


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A user's runtime directory and a stand-in for /run/sockd."""
    user, system = tmp_path / "xdg", tmp_path / "run-sockd"
    user.mkdir()
    system.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(user))
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    monkeypatch.setattr(runtime, "SYSTEM_RUNTIME_DIR", system)
    (user / "sockd").mkdir()
    yield user / "sockd", system


def running(directory: Path, title: str) -> TitleClaim:
    claim = TitleClaim(Instance(title, directory), None)
    claim.acquire()
    return claim


def test_search_order(dirs: tuple[Path, Path]) -> None:
    user, system = dirs
    assert search_dirs() == [user, system]


def test_a_service_in_run_sockd_is_found_by_title_and_as_the_only_one(
    dirs: tuple[Path, Path],
) -> None:
    _, system = dirs
    service = running(system, "chat")
    try:
        found, _ = locate("chat", None)
        assert found == Instance("chat", system)
        assert locate(None, None)[0] == found
    finally:
        service.release()
    with pytest.raises(NotRunning, match=f"looked in .* and {system}"):
        locate("chat", None)


def test_the_runtime_directory_wins_over_run_sockd(dirs: tuple[Path, Path]) -> None:
    user, system = dirs
    mine, service = running(user, "chat"), running(system, "chat")
    try:
        assert locate("chat", None)[0].directory == user
        assert locate(None, None)[0].directory == user
    finally:
        mine.release()
        service.release()


def test_several_in_one_place_must_be_named(dirs: tuple[Path, Path]) -> None:
    _, system = dirs
    claims = [running(system, "a"), running(system, "b")]
    try:
        with pytest.raises(UserError, match=r"several sockd are running \(a, b\)"):
            locate(None, None)
    finally:
        for claim in claims:
            claim.release()


def test_a_pid_file_finds_its_master_in_run_sockd(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    _, system = dirs
    pidfile = tmp_path / "app.pid"
    claim = TitleClaim(Instance("chat", system), str(pidfile))
    claim.acquire()
    try:
        assert locate(None, str(pidfile))[0] == Instance("chat", system)
    finally:
        claim.release()
