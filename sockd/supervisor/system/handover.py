"""Master to master, at SIGUSR2: what the old one passes to the new one, and what they say.

The old master starts the new one as it was itself started (same interpreter, arguments,
working directory and environment), passing the listening sockets and one end of a
socketpair as inherited fds named in :data:`HANDOVER_VARIABLE`, as gunicorn passes
``GUNICORN_FD`` (not ``LISTEN_FDS``, whose ``LISTEN_PID`` cannot name a child before it
exists). Over the socketpair, one JSON object per line:

- new -> old ``{"event": "ready", "pid": N}``: its workers are ready; or ``"failed"``
  with ``"error"``: it could not start (then it exits);
- old -> new ``{"event": "released"}``: the old one stopped accepting and gave up its
  title (pid files, control socket);
- new -> old ``{"event": "serving"}``: the new one holds the title and accepts.

End of file stands for whatever the other side can no longer say: a new master that
reads it before ``released`` knows the old one is gone, and takes over all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from sockd.control.protocol import MAX_MESSAGE, ProtocolError, decode, encode

#: Names the inherited fds; not ``SOCKD_*``, which are settings.
HANDOVER_VARIABLE = "_SOCKD_HANDOVER"
#: Variables of the old master's environment that the new one must not inherit: systemd's
#: activation variables name the old pid, and so does WATCHDOG_PID (with NotifyAccess=all
#: systemd takes the new master's pings once it sent MAINPID=).
NOT_INHERITED = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID")


@dataclass(frozen=True)
class Inheritance:
    """What a new master got from the one it replaces."""

    #: The old master's pid.
    parent: int
    listeners: list[int]
    #: Unix socket files the new master owns from now on (removes at its stop).
    owned_paths: list[str]
    link: int

    def to_environment(self) -> str:
        return json.dumps(
            {
                "parent": self.parent,
                "listeners": self.listeners,
                "owned_paths": self.owned_paths,
                "link": self.link,
            }
        )


def take_inheritance(environ: MutableMapping[str, str]) -> Inheritance | None:
    """The inheritance this process was started with, if any (removed from ``environ``, so
    workers and later masters do not see it)."""
    raw = environ.pop(HANDOVER_VARIABLE, None)
    if raw is None:
        return None
    data = json.loads(raw)
    return Inheritance(
        parent=int(data["parent"]),
        listeners=[int(fd) for fd in data["listeners"]],
        owned_paths=[str(path) for path in data["owned_paths"]],
        link=int(data["link"]),
    )


def successor_environment(
    start_environ: dict[str, str], inheritance: Inheritance
) -> dict[str, str]:
    """The environment the new master starts with: ours at start, plus its inheritance."""
    environ = {k: v for k, v in start_environ.items() if k not in NOT_INHERITED}
    environ[HANDOVER_VARIABLE] = inheritance.to_environment()
    return environ


class HandoverLink:
    """One end of the socketpair between an old master and its successor."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._buffer = bytearray()

    @classmethod
    def from_fd(cls, fd: int) -> HandoverLink:
        os.set_inheritable(fd, False)
        return cls(socket.socket(fileno=fd))

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message; a peer that is gone is not an error (it reads EOF)."""
        with contextlib.suppress(OSError):
            await asyncio.get_running_loop().sock_sendall(self._sock, encode(message))

    def send_now(self, message: dict[str, Any]) -> None:
        """Send one short message without a running loop (a master failing at start)."""
        with contextlib.suppress(OSError):
            self._sock.setblocking(True)
            self._sock.sendall(encode(message))

    async def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next message; None at end of file. Raises TimeoutError, ProtocolError."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while b"\n" not in self._buffer:
                chunk = await loop.sock_recv(self._sock, 4096)
                if not chunk:
                    return None
                self._buffer += chunk
                if len(self._buffer) > MAX_MESSAGE:
                    raise ProtocolError("handover message too long")
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return decode(line)

    def close(self) -> None:
        self._sock.close()
