"""``sockd dev``: notice edits to the app's source and config files, and ask for a reload.

Polling file times once a second keeps it free of dependencies and works on any
filesystem; an app directory is small. Hidden directories, virtualenvs and caches are
skipped. A change that breaks the app (a syntax error) only aborts that reload: the
running worker keeps serving, and the next change reloads again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("sockd.master")

#: How often ``sockd dev`` looks for changed files.
WATCH_INTERVAL = 1.0

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


class DevWatcher:
    """Asks for a reload (``request_reload``) whenever a watched file changed."""

    def __init__(
        self,
        watcher: ChangeWatcher,
        request_reload: Callable[[], object],
        interval: float = WATCH_INTERVAL,
    ) -> None:
        self._watcher = watcher
        self._request_reload = request_reload
        self._interval = interval
        self._next = 0.0

    def tick(self, now: float) -> None:
        if now < self._next:
            return
        self._next = now + self._interval
        changed = self._watcher.changed()
        if changed:
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            log.info("%s%s changed: reloading", changed[0], more)
            self._request_reload()
