"""The listening sockets: bound here, passed by systemd, or inherited from the master
this one replaces (SIGUSR2), with one clear error when binding fails.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from sockd.config.bind import UNIX_PREFIX, BindAddress
from sockd.errors import StartupError
from sockd.supervisor.system.unix_listener import bind_unix

BACKLOG = 2048
#: The first fd systemd passes (SD_LISTEN_FDS_START).
LISTEN_FDS_START = 3


@dataclass
class Listeners:
    """What the master accepts on, and the Unix socket files it must remove at its stop."""

    sockets: list[socket.socket]
    #: Paths of Unix sockets this master owns (bound, or inherited from the master it
    #: replaced); never systemd's, which outlive the service.
    owned_paths: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        return [describe(sock) for sock in self.sockets]

    def disown(self) -> None:
        """A new master serves these sockets now: leave their files in place."""
        self.owned_paths = []

    def remove_files(self) -> None:
        """Remove the Unix socket files this master owns (at its stop)."""
        for path in self.owned_paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.owned_paths = []


def adopt(fds: Iterable[int], source: str) -> list[socket.socket]:
    """Listening sockets from fds passed to this process; ``source`` names who passed them."""
    listeners = []
    for fd in fds:
        sock = socket.socket(fileno=fd)
        if sock.type != socket.SOCK_STREAM:
            raise StartupError(f"{source} passed fd {fd}, which is not a stream socket")
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        os.set_inheritable(fd, False)
        listeners.append(sock)
    return listeners


def activated_listeners(environ: dict[str, str]) -> list[socket.socket]:
    """Listeners passed by systemd socket activation (``LISTEN_FDS``), if they are ours.

    ``LISTEN_PID`` must name this process: a variable inherited by accident
    from an activated parent must not make us adopt its fds.
    """
    count = environ.get("LISTEN_FDS", "")
    if environ.get("LISTEN_PID") != str(os.getpid()) or not count.isdigit():
        return []
    fds = range(LISTEN_FDS_START, LISTEN_FDS_START + int(count))
    return adopt(fds, "socket activation")


def describe(listener: socket.socket) -> str:
    """``HOST:PORT`` or ``unix:PATH`` of a listener, for logs and status."""
    address = listener.getsockname()
    if listener.family == socket.AF_UNIX:
        path = address.decode(errors="replace") if isinstance(address, bytes) else address
        return f"{UNIX_PREFIX}{path}"
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_listeners(addresses: Iterable[BindAddress]) -> Listeners:
    """Bind and listen on every address; close all of them if one fails."""
    bound = Listeners([])
    try:
        for address in addresses:
            if address.path is not None:
                bound.sockets.append(bind_unix(address.path, BACKLOG))
                bound.owned_paths.append(address.path)
            else:
                bound.sockets.append(_bind_tcp(address))
    except BaseException:
        for sock in bound.sockets:
            sock.close()
        bound.remove_files()
        raise
    return bound


def _bind_tcp(address: BindAddress) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it, so the master sets it once, here.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address.host, address.port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise StartupError(_explain(address, exc)) from None
    return sock


def _explain(address: BindAddress, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot listen on {address}: address already in use "
            "(another server holds the port; stop it or pick another --port/--bind)"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {address}: no such local address on this host"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {address}: permission denied (ports below 1024 need privileges)"
    return f"cannot listen on {address}: {exc.strerror or exc}"
