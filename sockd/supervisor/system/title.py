"""The title a master answers to: its pid file in the runtime directory, and ``--pidfile``.

Both are locked while held (``pidfile.py``), so a second sockd with the same title or
pid file is refused. A master hands its title over to the master that replaces it
(SIGUSR2): it releases, the new one acquires; if the new one fails, the old one
acquires it again.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sockd.config.bind import UNIX_PREFIX
from sockd.control.runtime import Instance
from sockd.errors import StartupError
from sockd.supervisor.system.pidfile import PidFile, PidFileHeld

#: Characters a title may hold (it names files), as the settings schema checks.
_NOT_IN_TITLE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_TITLE = 64


def default_title(first_listener: str) -> str:
    """``sockd-PORT`` of ``HOST:PORT``, or ``sockd-NAME`` of ``unix:.../NAME.sock``.

    Derived from what the master actually serves (systemd's or an inherited listener),
    so two socket-activated sockd on different ports never share a title.
    """
    if first_listener.startswith(UNIX_PREFIX):
        name = Path(first_listener[len(UNIX_PREFIX) :]).stem
    else:
        name = first_listener.rpartition(":")[2]
    name = _NOT_IN_TITLE.sub("-", name).strip("-") or "unix"
    return f"sockd-{name}"[:MAX_TITLE]


class TitleClaim:
    """The pid files this master holds while it answers to ``instance.title``."""

    def __init__(self, instance: Instance, pidfile: str | None) -> None:
        self.instance = instance
        self._pidfile = Path(pidfile) if pidfile else None
        self._held: list[PidFile] = []

    @property
    def held(self) -> bool:
        return bool(self._held)

    def acquire(self) -> None:
        """Take both pid files (or neither), with our pid in them."""
        if self._held:
            return
        title = self.instance.title
        try:
            self._take(self.instance.pid_path, _title_taken(title))
            if self._pidfile is not None:
                self._take(self._pidfile, _pidfile_taken(self._pidfile))
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Give both up (files removed), so another master can take them."""
        while self._held:
            self._held.pop().release()

    def _take(self, path: Path, taken: str) -> None:
        pidfile = PidFile(path)
        try:
            pidfile.acquire()
        except PidFileHeld as exc:
            raise StartupError(taken.format(pid=exc.pid or "unknown")) from None
        except OSError as exc:
            raise StartupError(f"cannot write the pid file {path}: {exc.strerror}") from None
        self._held.append(pidfile)
        pidfile.write(os.getpid())


def _title_taken(title: str) -> str:
    return (
        f"a sockd titled {title!r} is already running (pid {{pid}}): stop it with "
        f"`sockd stop --title {title}`, or give this one another --title"
    )


def _pidfile_taken(path: Path) -> str:
    return (
        f"the pid file {path} belongs to a running sockd (pid {{pid}}): stop it with "
        f"`sockd stop --pidfile {path}`, or use another --pidfile"
    )
