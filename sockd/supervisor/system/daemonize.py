"""Running in the background, with ``sockd start --daemon`` waiting for the verdict.

The classic double fork: the daemon is a session leader's child, so it has no terminal
and never gets one. The launching ``sockd start`` stays until the daemon reports that its
workers are ready, or why it could not start, so a failed start still ends in one
``sockd: error:`` line and a non-zero exit, and a zero exit means it serves.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from typing import NoReturn

from sockd.control.protocol import ProtocolError, decode, encode
from sockd.errors import UserError

#: How long the launcher waits for the daemon's word (worker startup has its own bound).
READY_WAIT = 120.0


class Readiness:
    """The daemon's end of the pipe to its launcher; says one thing, once."""

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    def ready(self, message: str) -> None:
        self._send({"ok": True, "message": message})

    def failed(self, error: UserError) -> None:
        self._send({"ok": False, "error": str(error), "code": error.exit_code})

    def _send(self, body: dict[str, object]) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # the launcher was interrupted: nobody listens
            os.write(self._fd, encode(body))
        os.close(self._fd)
        self._fd = None


def daemonize(log_file: str) -> Readiness:
    """Return in the daemon; in the launcher, wait for the daemon's word and exit."""
    read_fd, write_fd = os.pipe()
    child = os.fork()
    if child:
        os.close(write_fd)
        os.waitpid(child, 0)
        _await_verdict(read_fd, log_file)
    os.close(read_fd)
    os.setsid()
    if os.fork():
        os._exit(0)
    with open(os.devnull, "rb") as devnull:
        os.dup2(devnull.fileno(), 0)
    redirect_output(log_file)
    return Readiness(write_fd)


def redirect_output(log_file: str) -> None:
    """Point stdout and stderr at the log file (again, after logrotate moved it).

    Workers inherit them, so a traceback that bypasses logging is not lost either.
    """
    fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _await_verdict(fd: int, log_file: str) -> NoReturn:
    data = bytearray()
    deadline = time.monotonic() + READY_WAIT
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise UserError(
                f"the daemon did not report ready within {READY_WAIT:.0f}s; see {log_file}"
            )
        chunk = os.read(fd, 4096)
        if not chunk:
            raise UserError(f"the daemon exited while starting; see {log_file}")
        data += chunk
    try:
        verdict = decode(bytes(data))
    except ProtocolError as exc:
        raise UserError(f"the daemon sent a garbled report ({exc}); see {log_file}") from None
    if verdict.get("ok"):
        print(verdict.get("message", "started"), flush=True)
        raise SystemExit(0)
    error = UserError(str(verdict.get("error")))
    error.exit_code = int(verdict.get("code", 1))
    raise error
