"""A pid file that is also a lock, so two masters never claim the same name.

The lock is ``flock`` on the open file: it goes away with the process that holds it, so
a pid file left behind by a killed master is stale and the next start takes it over,
while a live master's file cannot be taken at all (no guessing from a pid that may
have been reused).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

#: Attempts to lock a file that its holder keeps removing and creating anew.
LOCK_ATTEMPTS = 3


class PidFileHeld(Exception):
    """Another live process holds the pid file."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is held by pid {pid}")
        self.path = path
        self.pid = pid


class PidFile:
    """A locked pid file, held from :meth:`acquire` until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        """Lock the file (creating it); raises :class:`PidFileHeld` if a live process has it."""
        for _ in range(LOCK_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise PidFileHeld(self.path, holder) from None
            if _same_file(fd, self.path):
                self._fd = fd
                return
            # The previous holder removed the file between our open and our lock.
            os.close(fd)
        raise PidFileHeld(self.path, None)

    def write(self, pid: int) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{pid}\n".encode(), 0)

    def release(self) -> None:
        """Remove the file (while still holding the lock) and drop the lock."""
        if self._fd is None:
            return
        if _same_file(self._fd, self.path):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None


def running_pid(path: Path) -> int | None:
    """The pid in ``path`` if a live process holds its lock; None if missing or stale.

    0 means held, but the holder has not written its pid yet.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read_pid(fd) or 0
    finally:
        os.close(fd)
    return None


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_disk.st_dev, on_disk.st_ino)
