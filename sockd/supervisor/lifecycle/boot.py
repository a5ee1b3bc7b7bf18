"""Once every slot's first worker is ready: say so, to the log, to systemd and to the
``sockd start --daemon`` that waits for it. A master replacing another (SIGUSR2) takes
over first (``takeover.py``), and tells systemd that it is the main process now.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

from sockd.errors import StartupError
from sockd.supervisor.lifecycle.takeover import TakeoverHost, take_over
from sockd.supervisor.system.handover import HandoverLink

log = logging.getLogger("sockd.master")

#: Told once every slot's first worker is ready, with a one-line summary.
ReadyCallback = Callable[[str], None]


class BootAnnouncer:
    def __init__(
        self,
        title: str,
        listening: list[str],
        slot_count: Callable[[], int],
        systemd_ready: Callable[[int | None], None],
        on_fatal: Callable[[str], None],
        on_ready: ReadyCallback | None,
        predecessor: tuple[HandoverLink, int] | None,
        host: TakeoverHost,
    ) -> None:
        """``predecessor``: the link to the master this one replaces, and its pid;
        ``host`` takes its title and listeners over."""
        self._title = title
        self._listening = ", ".join(listening)
        self._slot_count = slot_count
        self._systemd_ready = systemd_ready
        self._on_fatal = on_fatal
        self._on_ready = on_ready
        self._predecessor = predecessor
        self._host = host
        self._task: asyncio.Task[None] | None = None

    def booted(self) -> None:
        if self._predecessor is None:
            self._announce(None)
        else:
            link, parent = self._predecessor
            self._task = asyncio.get_running_loop().create_task(self._take_over(link, parent))

    async def _take_over(self, link: HandoverLink, parent: int) -> None:
        try:
            await take_over(link, parent, self._host)
        except StartupError as exc:
            self._on_fatal(str(exc))
        else:
            self._announce(os.getpid())

    def _announce(self, main_pid: int | None) -> None:
        count = self._slot_count()
        log.info("master ready: %d workers on %s", count, self._listening)
        self._systemd_ready(main_pid)
        if self._on_ready is not None:
            self._on_ready(
                f"sockd {self._title!r} serving on {self._listening} with {count} worker(s) "
                f"(master pid {os.getpid()})"
            )
