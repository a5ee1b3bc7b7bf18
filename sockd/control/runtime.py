"""Where running sockd masters are found: one control socket and one pid file per title.

Both live in a runtime directory only this user can enter: systemd's
``$RUNTIME_DIRECTORY`` (``RuntimeDirectory=sockd``), else ``$XDG_RUNTIME_DIR/sockd``, else
``/run/sockd`` for root or when this user owns it, else ``<tmp>/sockd-<uid>``. The pid file
is locked by its master for its whole life (see ``sockd/supervisor/system/pidfile.py``), so a
title is taken exactly while its master runs, and files left by a killed master are
recognised as stale.

``sockd stop|reload|status`` look there first, then in ``/run/sockd``, where a systemd
service's master lives: a shell with ``XDG_RUNTIME_DIR`` set derives another directory.
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
#: systemd's ``RuntimeDirectory=sockd``, and root's runtime directory.
SYSTEM_RUNTIME_DIR = Path("/run/sockd")


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
    system = SYSTEM_RUNTIME_DIR
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
        """Its master's pid while it runs; None when not running, or not ours to see."""
        try:
            return running_pid(self.pid_path)
        except OSError:  # a directory we may not enter (another user's /run/sockd)
            return None

    def check_socket_path(self) -> None:
        if len(os.fsencode(self.socket_path)) > MAX_SOCKET_PATH:
            raise UserError(
                f"control socket path {self.socket_path} is longer than {MAX_SOCKET_PATH} "
                "bytes: set XDG_RUNTIME_DIR to a shorter directory or pick a shorter --title"
            )


def instance(title: str) -> Instance:
    return Instance(title, runtime_dir())


def search_dirs() -> list[Path]:
    """Where ``sockd stop|reload|status`` look, in order: the runtime directory, then
    ``/run/sockd``."""
    directory = runtime_dir()
    return [directory] if directory == SYSTEM_RUNTIME_DIR else [directory, SYSTEM_RUNTIME_DIR]


def running_instances(directory: Path) -> list[tuple[Instance, int]]:
    """Every live sockd of this user in ``directory``, by title, with its master's pid."""
    try:
        paths = sorted(directory.glob("*.pid")) if directory.is_dir() else []
    except OSError:  # not ours to read
        paths = []
    found = []
    for path in paths:
        target = Instance(path.stem, directory)
        pid = target.running_pid()
        if pid is not None:
            found.append((target, pid))
    return found


def locate(title: str | None, pidfile: str | None) -> tuple[Instance, int]:
    """The running sockd a command means: by title, by pid file, or the only one there is."""
    found, pid = _locate(title, pidfile, search_dirs())
    if pid == 0:
        raise UserError(f"sockd {found.title!r} is just starting; try again in a moment")
    return found, pid


def _locate(title: str | None, pidfile: str | None, dirs: list[Path]) -> tuple[Instance, int]:
    places = [_described(directory) for directory in dirs]
    looked = " and ".join(places)
    if any(place.endswith("(permission denied)") for place in places):
        looked += f"; uid {os.geteuid()} cannot see a sockd of another user"
    if title is not None:
        for directory in dirs:
            target = Instance(title, directory)
            pid = target.running_pid()
            if pid is not None:
                return target, pid
            _check_readable(target.pid_path)
        raise NotRunning(f"no sockd titled {title!r} is running (looked in {looked})")
    if pidfile is not None:
        return _by_pidfile(pidfile, dirs, looked)
    for directory in dirs:
        candidates = running_instances(directory)
        if len(candidates) > 1:
            titles = ", ".join(found.title for found, _ in candidates)
            raise UserError(f"several sockd are running ({titles}); name one with --title")
        if candidates:
            return candidates[0]
    raise NotRunning(f"no sockd is running (looked in {looked})")


def _described(directory: Path) -> str:
    """``directory`` as a place looked in, saying so when this user may not look there
    (a sockd of another user, or of a service, would be invisible from here)."""
    try:
        os.stat(directory)
    except FileNotFoundError:
        return str(directory)
    except PermissionError:
        return f"{directory} (permission denied)"
    if not os.access(directory, os.R_OK | os.X_OK):
        return f"{directory} (permission denied)"
    return str(directory)


def _check_readable(pid_path: Path) -> None:
    """Refuse with one line a pid file this user may not read (another user's sockd)."""
    visible = os.access(pid_path.parent, os.X_OK) and os.path.exists(pid_path)
    if visible and not os.access(pid_path, os.R_OK):
        raise UserError(f"cannot read {pid_path}: permission denied")


def _by_pidfile(pidfile: str, dirs: list[Path], looked: str) -> tuple[Instance, int]:
    try:
        pid = running_pid(Path(pidfile))
    except OSError as exc:
        raise UserError(f"cannot read the pid file {pidfile}: {exc.strerror}") from None
    if pid is None:
        raise NotRunning(f"no sockd is running with pid file {pidfile}")
    for directory in dirs:
        for found, running in running_instances(directory):
            if running == pid:
                return found, pid
    raise UserError(
        f"sockd pid {pid} (from {pidfile}) has no control socket in {looked}; "
        "was it started with another XDG_RUNTIME_DIR?"
    )
