"""What a master shows the world: its listeners, its control socket and its title (with
the ``--metrics`` and ``--health`` listeners, which go with the control socket).

A master holds all three while it serves, and hands all three to the master that
replaces it at SIGUSR2: it stops accepting (the listeners stay open in both), gives the
title up (pid files, control socket) and leaves the Unix socket files in place. This is
the old master's ``UpgradeHost`` (``upgrade.py``) and the new one's ``TakeoverHost``
(``takeover.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sockd.control.server import ControlServer
from sockd.errors import StartupError
from sockd.supervisor.observe.endpoints import Endpoints
from sockd.supervisor.routing.acceptor import Acceptor
from sockd.supervisor.system.listeners import Listeners
from sockd.supervisor.system.title import TitleClaim

log = logging.getLogger("sockd.master")


class Presence:
    def __init__(
        self,
        listeners: Listeners,
        acceptor: Acceptor,
        control: ControlServer,
        title: TitleClaim,
        stop: Callable[[str], None],
        endpoints: Endpoints,
    ) -> None:
        """``stop(reason)``: stop gracefully (once a new master serves)."""
        self._listeners = listeners
        self._acceptor = acceptor
        self._control = control
        self._endpoints = endpoints
        self._title = title
        self._stop = stop
        #: A new master serves in our place (its listeners are ours no more).
        self.replaced = False

    async def start_control(self) -> None:
        try:
            await self._control.start()
        except OSError as exc:
            raise StartupError(
                f"cannot create the control socket {self._control.path}: {exc.strerror}"
            ) from None
        try:
            await self._endpoints.start()
        except StartupError:
            await self._control.close()
            raise

    async def close(self) -> None:
        """The master stops: the control socket, the title and our socket files go."""
        await self._endpoints.close()
        await self._control.close()
        self._title.release()
        self._listeners.remove_files()

    # -- the new master's side --------------------------------------------------

    async def claim_title(self) -> None:
        self._title.acquire()
        await self.start_control()

    def start_accepting(self) -> None:
        self._acceptor.start()

    # -- the old master's side --------------------------------------------------

    def listeners(self) -> Listeners:
        return self._listeners

    def holds_title(self) -> bool:
        return self._title.held

    def pause_accepting(self) -> None:
        self._acceptor.pause()

    def resume_accepting(self) -> None:
        self._acceptor.start()

    async def release_title(self) -> None:
        await self._endpoints.close()
        await self._control.close()
        self._title.release()

    async def reclaim_title(self) -> None:
        try:
            await self.claim_title()
        except StartupError as exc:
            log.error("cannot take the title back (%s): serving without it", exc)

    def handed_over(self, pid: int) -> None:
        self.replaced = True
        self._listeners.disown()
        self._stop(f"the new master (pid {pid}) serves")
