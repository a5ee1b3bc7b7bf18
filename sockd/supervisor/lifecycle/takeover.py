"""The new master's half of a SIGUSR2 handover (the old one's is ``upgrade.py``).

It started with the old master's listeners but neither accepts nor holds the title:
once its workers are ready it says so, waits until the old master has stopped
accepting and released the title, then takes the title and accepts.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

from sockd.errors import StartupError
from sockd.supervisor.system.handover import HandoverLink

log = logging.getLogger("sockd.master")

#: How long the old master may take to stop accepting and release its title.
RELEASE_WAIT = 15.0


class TakeoverHost(Protocol):
    """What the new master does to take over."""

    async def claim_title(self) -> None:
        """Hold the title (pid files, control socket); StartupError when it cannot."""
        ...

    def start_accepting(self) -> None: ...


async def take_over(link: HandoverLink, parent: int, host: TakeoverHost) -> None:
    """Take over from the old master (``parent``); StartupError says why it could not
    (and the old master heard it, so it serves on)."""
    try:
        await _take_over(link, parent, host)
    except StartupError as exc:
        await link.send({"event": "failed", "error": str(exc)})
        raise
    finally:
        link.close()
    log.info("took over from the old master (pid %d)", parent)


async def _take_over(link: HandoverLink, parent: int, host: TakeoverHost) -> None:
    await link.send({"event": "ready", "pid": os.getpid()})
    try:
        said = await link.receive(RELEASE_WAIT)
    except TimeoutError:
        raise StartupError(
            f"the old master (pid {parent}) did not release its title within {RELEASE_WAIT:.0f}s"
        ) from None
    except (ValueError, OSError) as exc:  # ProtocolError is a ValueError
        raise StartupError(f"the old master (pid {parent}) sent garbage: {exc}") from None
    # None: the old master is gone, and its title with it.
    if said is not None and said.get("event") != "released":
        raise StartupError(f"the old master (pid {parent}) said {said!r} instead of releasing")
    await host.claim_title()
    host.start_accepting()
    await link.send({"event": "serving"})
