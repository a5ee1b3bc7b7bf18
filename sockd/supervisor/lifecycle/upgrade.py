"""SIGUSR2: replace the master itself (a new sockd version, say) without refusing anyone.

As gunicorn does, the master starts a new master the way it was started itself, with the
listening sockets inherited; unlike gunicorn, it hands over by itself. Once the new
master's workers are ready, the old one stops accepting (connections wait in the shared
listen backlog), gives up its title, and the new one takes the title and accepts; then
the old one drains its workers and exits. If the new master fails to start, or to take
over, the old one keeps serving (its title back if it had given it up) and says why.
The wire between the two masters is in ``sockd/supervisor/system/handover.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sockd.control.protocol import ProtocolError
from sockd.supervisor.system.handover import HandoverLink, Inheritance, successor_environment
from sockd.supervisor.system.listeners import Listeners

log = logging.getLogger("sockd.master")

#: How long a new master may take until its workers are ready (each has 60 s to start).
READY_WAIT = 120.0
#: How long a released new master may take to hold the title and accept.
TAKEOVER_WAIT = 15.0


@dataclass(frozen=True)
class MasterCommand:
    """How this master was started, so its successor starts the same way."""

    argv: list[str]
    cwd: str
    environ: dict[str, str]

    @classmethod
    def of_this_process(cls, environ: dict[str, str]) -> MasterCommand:
        """``sockd`` as this process runs it: the console script or ``python -m sockd``
        (``sys.orig_argv``), so an upgraded installation is what the successor runs."""
        return cls([sys.executable, *sys.orig_argv[1:]], os.getcwd(), dict(environ))


class UpgradeHost(Protocol):
    """What the old master lends to a handover."""

    def listeners(self) -> Listeners: ...
    def holds_title(self) -> bool: ...
    def pause_accepting(self) -> None: ...
    def resume_accepting(self) -> None: ...
    async def release_title(self) -> None: ...
    async def reclaim_title(self) -> None: ...
    def handed_over(self, pid: int) -> None:
        """The new master (``pid``) serves: stop gracefully, leaving the listeners to it."""
        ...


Spawn = Callable[..., "subprocess.Popen[bytes]"]


class Upgrader:
    def __init__(
        self, host: UpgradeHost, command: MasterCommand, spawn: Spawn = subprocess.Popen
    ) -> None:
        self._host = host
        self._command = command
        self._spawn = spawn
        self._task: asyncio.Task[None] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._handed_over = False

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """SIGUSR2 arrived: start a new master, unless that cannot be done now."""
        if self._handed_over:
            log.warning("received SIGUSR2: already handed over to a new master")
        elif self.busy:
            log.warning("received SIGUSR2: a new master is already starting")
        elif not self._host.holds_title():
            log.warning("received SIGUSR2: this master has not taken over from the last one yet")
        elif os.getpid() == 1:
            log.error(
                "received SIGUSR2: as PID 1 (a container's init) the master cannot hand over, "
                "the container would end with it; restart the container instead"
            )
        else:
            self._task = asyncio.get_running_loop().create_task(self._upgrade())

    def child_exited(self, pid: int, status: int) -> bool:
        """Whether ``pid`` was the new master (reaped by the old one, its parent)."""
        if self._process is None or pid != self._process.pid:
            return False
        self._process.returncode = os.waitstatus_to_exitcode(status)
        if not self._handed_over:
            log.info(
                "the new master (pid %d) exited (%s)", pid, _describe(self._process.returncode)
            )
        return True

    def cancel(self) -> None:
        """The master stops: a new master that has not taken over stops with it."""
        if self._task is not None:
            self._task.cancel()
        if not self._handed_over:
            self._stop_successor()

    async def _upgrade(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        link = HandoverLink(ours)
        try:
            if self._start_successor(theirs):
                await self._hand_over(link)
        finally:
            link.close()

    def _start_successor(self, theirs: socket.socket) -> bool:
        listeners = self._host.listeners()
        fds = [sock.fileno() for sock in listeners.sockets]
        inheritance = Inheritance(os.getpid(), fds, listeners.owned_paths, theirs.fileno())
        try:
            self._process = self._spawn(
                self._command.argv,
                cwd=self._command.cwd,
                env=successor_environment(self._command.environ, inheritance),
                pass_fds=(*fds, theirs.fileno()),
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            log.error("received SIGUSR2: cannot start a new master: %s; serving on", exc)
            return False
        finally:
            theirs.close()
        log.info(
            "received SIGUSR2: started a new master (pid %d), which takes over once its "
            "workers are ready",
            self._process.pid,
        )
        return True

    async def _hand_over(self, link: HandoverLink) -> None:
        assert self._process is not None
        pid = self._process.pid
        said = await _receive(link, READY_WAIT)
        if said.get("event") != "ready":
            self._give_up(f"the new master (pid {pid}) {_why(said, 'report ready')}")
            return
        host = self._host
        host.pause_accepting()
        await host.release_title()
        await link.send({"event": "released"})
        said = await _receive(link, TAKEOVER_WAIT)
        if said.get("event") == "serving":
            self._handed_over = True
            host.handed_over(pid)
            return
        self._give_up(f"the new master (pid {pid}) {_why(said, 'take over')}")
        await host.reclaim_title()
        host.resume_accepting()

    def _give_up(self, why: str) -> None:
        log.error("upgrade failed: %s; this master keeps serving", why)
        self._stop_successor()

    def _stop_successor(self) -> None:
        """SIGTERM the new master, unless it exited (it stops its workers itself)."""
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.terminate()


async def _receive(link: HandoverLink, timeout: float) -> dict[str, Any]:
    """The new master's next word; its silence, end or garbage as events of their own."""
    try:
        said = await link.receive(timeout)
    except TimeoutError:
        return {"event": "silent", "timeout": timeout}
    except (ProtocolError, OSError) as exc:
        return {"event": "garbled", "error": str(exc)}
    return said if said is not None else {"event": "exited"}


def _why(said: dict[str, Any], what: str) -> str:
    """Why the new master is not fit to ``what``, from its last word."""
    event = said.get("event")
    if event == "exited":
        return f"exited before it could {what} (see its log lines)"
    if event == "silent":
        return f"did not {what} within {said['timeout']:.0f}s"
    if event == "failed":
        return f"failed to start: {said.get('error')}"
    if event == "garbled":
        return f"sent garbage ({said.get('error')})"
    return f"said {event!r} instead of being able to {what}"


def _describe(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
