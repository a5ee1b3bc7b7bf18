"""``sockd dev``'s watcher: a changed source or config file asks for a reload, at most
once per interval; caches, hidden directories and virtualenvs are not watched."""

from __future__ import annotations

import os
from pathlib import Path

from sockd.supervisor.lifecycle.watcher import ChangeWatcher, DevWatcher


def touch(path: Path, mtime: int) -> None:
    os.utime(path, ns=(mtime, mtime))


def test_edits_added_and_removed_files_are_changes(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("x = 1\n")
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "README.md").write_text("")
    watcher = ChangeWatcher(tmp_path)
    assert watcher.changed() == []
    touch(app, 10**18)
    (tmp_path / "new.py").write_text("")
    (tmp_path / "config.toml").unlink()
    (tmp_path / "README.md").write_text("not watched")
    assert watcher.changed() == sorted([app, tmp_path / "new.py", tmp_path / "config.toml"])
    assert watcher.changed() == []


def test_caches_hidden_directories_and_virtualenvs_are_skipped(tmp_path: Path) -> None:
    for directory in ("__pycache__", ".git", "venv", "node_modules"):
        (tmp_path / directory).mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("")
    watcher = ChangeWatcher(tmp_path)
    for directory in ("__pycache__", ".git", "venv", "node_modules"):
        (tmp_path / directory / "mod.py").write_text("")
    assert watcher.changed() == []


def test_a_change_asks_for_one_reload_per_interval(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("")
    asked: list[None] = []
    dev = DevWatcher(ChangeWatcher(tmp_path), lambda: asked.append(None), interval=1.0)
    dev.tick(0.0)
    assert asked == []
    touch(app, 10**18)
    dev.tick(0.5)
    assert asked == [], "not before the interval"
    dev.tick(1.0)
    assert asked == [None]
    dev.tick(2.0)
    assert asked == [None], "nothing changed since"
    # A broken edit and its fix are two changes, each asking again (the reloads of a
    # syntax error abort; the next one works).
    touch(app, 2 * 10**18)
    dev.tick(3.0)
    touch(app, 3 * 10**18)
    dev.tick(4.0)
    assert len(asked) == 3
