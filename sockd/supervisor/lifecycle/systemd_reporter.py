"""What the master tells systemd, and when: a component over the notify protocol.

``READY=1`` once every worker is ready (and again after each reload, whatever its
outcome), ``RELOADING=1`` when a roll starts, ``STOPPING=1`` at a stop, ``WATCHDOG=1``
only while the cluster is healthy, and a ``STATUS=`` line kept current. A new master
taking over after SIGUSR2 sends ``MAINPID=`` with its ``READY=1`` (the unit needs
``NotifyAccess=all`` for systemd to believe a process other than the main one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: How often systemd's STATUS= line is refreshed.
STATUS_INTERVAL = 2.0


class Notify(Protocol):
    """systemd's notify socket (``sockd/supervisor/system/sd_notify.py``)."""

    @property
    def enabled(self) -> bool: ...
    @property
    def watchdog_interval(self) -> float | None: ...
    def ready(self, status: str, main_pid: int | None = None) -> None: ...
    def reloading(self) -> None: ...
    def stopping(self) -> None: ...
    def status(self, status: str) -> None: ...
    def watchdog(self) -> None: ...


class SystemdReporter:
    def __init__(
        self,
        notify: Notify,
        status_line: Callable[[], str],
        healthy: Callable[[float], bool],
        booted: Callable[[], bool],
    ) -> None:
        self._notify = notify
        self._status_line = status_line
        self._healthy = healthy
        self._booted = booted
        self._next_watchdog = 0.0
        self._next_status = 0.0
        self._status = ""

    def tick(self, now: float) -> None:
        """Ping systemd's watchdog while healthy, and keep its STATUS= line current."""
        if not self._notify.enabled:
            return
        interval = self._notify.watchdog_interval
        if interval is not None and now >= self._next_watchdog and self._healthy(now):
            self._next_watchdog = now + interval
            self._notify.watchdog()
        if self._booted() and now >= self._next_status:
            self._next_status = now + STATUS_INTERVAL
            status = self._status_line()
            if status != self._status:
                self._status = status
                self._notify.status(status)

    def ready(self, main_pid: int | None = None) -> None:
        """The service serves; ``main_pid``: this process is now the service's main one."""
        self._notify.ready(self._status_line(), main_pid)

    def reloading(self) -> None:
        self._notify.reloading()

    def reloaded(self) -> None:
        self.ready()

    def stopping(self) -> None:
        self._notify.stopping()
