"""``sockd dev``: notice edits to the app's source and config files.

Polling file times once a second keeps it free of dependencies and works on any
filesystem; an app directory is small. Hidden directories, virtualenvs and caches are
skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

WATCHED_SUFFIXES = (".py", ".toml")
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


class ChangeWatcher:
    def __init__(self, root: Path) -> None:
        self._root = root
        self._seen = self._scan()

    def changed(self) -> list[Path]:
        """Files added, removed or modified since the last call."""
        current = self._scan()
        changed = sorted(
            path
            for path in current.keys() | self._seen.keys()
            if current.get(path) != self._seen.get(path)
        )
        self._seen = current
        return changed

    def _scan(self) -> dict[Path, tuple[int, int]]:
        found: dict[Path, tuple[int, int]] = {}
        for directory, subdirs, files in os.walk(self._root):
            subdirs[:] = [
                name
                for name in subdirs
                if not name.startswith(".")
                and name not in SKIPPED_DIRS
                and not os.path.exists(os.path.join(directory, name, "pyvenv.cfg"))
            ]
            for name in files:
                if name.endswith(WATCHED_SUFFIXES):
                    path = Path(directory, name)
                    try:
                        info = path.stat()
                    except FileNotFoundError:
                        continue  # removed while we looked
                    found[path] = (info.st_mtime_ns, info.st_size)
        return found
