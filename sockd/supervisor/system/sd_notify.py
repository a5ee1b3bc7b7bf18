"""systemd's notify protocol, from the master only, with the standard library only.

``Type=notify`` services tell systemd when they are ready, reloading or
stopping, and ping its watchdog, by sending datagrams to ``$NOTIFY_SOCKET``.
A notify that fails never breaks the daemon: it is logged once and dropped.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("sockd.master")

#: Environment variables meant for the master alone; workers must not inherit them.
MASTER_ONLY_VARIABLES = (
    "NOTIFY_SOCKET",
    "WATCHDOG_USEC",
    "WATCHDOG_PID",
    "LISTEN_FDS",
    "LISTEN_PID",
    "LISTEN_FDNAMES",
)


class Notifier:
    """Sends state changes to systemd; does nothing when not run by systemd."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        environ = dict(os.environ if environ is None else environ)
        address = environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self._address = address or None
        self._socket: socket.socket | None = None
        self._failed = False
        self.watchdog_interval = _watchdog_interval(environ)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def ready(self, status: str, main_pid: int | None = None) -> None:
        """Ready; ``main_pid`` names a new main process (a master that took over)."""
        main = f"MAINPID={main_pid}\n" if main_pid is not None else ""
        self._send(f"{main}READY=1\nSTATUS={status}")

    def reloading(self) -> None:
        """Start of a reload; systemd wants the monotonic time with it (Type=notify-reload)."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def status(self, status: str) -> None:
        self._send(f"STATUS={status}")

    def watchdog(self) -> None:
        self._send("WATCHDOG=1")

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
                self._socket.setblocking(False)
            self._socket.sendto(message.encode(), self._address)
        except OSError as exc:
            if not self._failed:
                log.warning("systemd notify to %s failed: %s", self._address.lstrip("\0"), exc)
                self._failed = True


def _watchdog_interval(environ: dict[str, str]) -> float | None:
    """Half the watchdog timeout, as systemd recommends; None when there is no watchdog."""
    usec = environ.get("WATCHDOG_USEC")
    pid = environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


def worker_environment() -> dict[str, str]:
    """The master's environment without what only the master may use."""
    return {k: v for k, v in os.environ.items() if k not in MASTER_ONLY_VARIABLES}
