"""Where running sockd masters are found: one control socket and one pid file per title.

Both live in a runtime directory only this user can enter: systemd's
``$RUNTIME_DIRECTORY`` (``RuntimeDirectory=sockd``), else ``$XDG_RUNTIME_DIR/sockd``, else
``/run/sockd`` for root or when this user owns it, else ``<tmp>/sockd-<uid>``. The pid file
is locked by its master for its whole life (see ``sockd/supervisor/system/pidfile.py``), so a title
is taken exactly while its master runs, and files left by a killed master are recognised as
stale.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sockd.errors import UserError
from sockd.supervisor.system.pidfile import running_pid

#: ``sun_path`` holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH = 107


class NotRunning(UserError):
    """No sockd answers to that name; LSB's "program is not running" exit code."""

    exit_code = 7


def runtime_dir() -> Path:
    systemd = os.environ.get("RUNTIME_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "sockd"
    system = Path("/run/sockd")
    try:
        owned = system.stat().st_uid == os.geteuid()
    except OSError:
        owned = False
    if os.geteuid() == 0 or owned:
        return system
    return Path(tempfile.gettempdir()) / f"sockd-{os.geteuid()}"


def prepare_runtime_dir() -> Path:
    """Create the runtime directory (0700) and refuse one that others could write to."""
    directory = runtime_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError as exc:
        raise UserError(
            f"cannot create the runtime directory {directory}: {exc.strerror}"
        ) from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise UserError(
            f"the runtime directory {directory} must be a directory owned by uid "
            f"{os.geteuid()} that nobody else can write to (set XDG_RUNTIME_DIR to use another)"
        )
    return directory


@dataclass(frozen=True)
class Instance:
    """The files of the sockd named ``title``."""

    title: str
    directory: Path

    @property
    def socket_path(self) -> Path:
        return self.directory / f"{self.title}.sock"

    @property
    def pid_path(self) -> Path:
        return self.directory / f"{self.title}.pid"

    def running_pid(self) -> int | None:
        return running_pid(self.pid_path)

    def check_socket_path(self) -> None:
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH:
            raise UserError(
                f"control socket path {self.socket_path} is longer than {MAX_SOCKET_PATH} "
                "bytes: set XDG_RUNTIME_DIR to a shorter directory or pick a shorter --title"
            )


def instance(title: str) -> Instance:
    return Instance(title, runtime_dir())


def running_instances() -> list[tuple[Instance, int]]:
    """Every live sockd of this user, by title, with its master's pid."""
    directory = runtime_dir()
    found = []
    for path in sorted(directory.glob("*.pid")) if directory.is_dir() else []:
        pid = running_pid(path)
        if pid is not None:
            found.append((Instance(path.stem, directory), pid))
    return found


def locate(title: str | None, pidfile: str | None) -> tuple[Instance, int]:
    """The running sockd a command means: by title, by pid file, or the only one there is."""
    found, pid = _locate(title, pidfile)
    if pid == 0:
        raise UserError(f"sockd {found.title!r} is just starting; try again in a moment")
    return found, pid


def _locate(title: str | None, pidfile: str | None) -> tuple[Instance, int]:
    directory = runtime_dir()
    if title is not None:
        target = Instance(title, directory)
        pid = target.running_pid()
        if pid is None:
            raise NotRunning(f"no sockd titled {title!r} is running (looked in {directory})")
        return target, pid
    candidates = running_instances()
    if pidfile is not None:
        try:
            pid = running_pid(Path(pidfile))
        except OSError as exc:
            raise UserError(f"cannot read the pid file {pidfile}: {exc.strerror}") from None
        if pid is None:
            raise NotRunning(f"no sockd is running with pid file {pidfile}")
        candidates = [(found, p) for found, p in candidates if p == pid]
        if not candidates:
            raise UserError(
                f"sockd pid {pid} (from {pidfile}) has no control socket in {directory}; "
                "was it started with another XDG_RUNTIME_DIR?"
            )
        return candidates[0]
    if not candidates:
        raise NotRunning(f"no sockd is running (looked in {directory})")
    if len(candidates) > 1:
        titles = ", ".join(found.title for found, _ in candidates)
        raise UserError(f"several sockd are running ({titles}); name one with --title")
    return candidates[0]
