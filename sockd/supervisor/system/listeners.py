"""Binding the listening sockets, with one clear error when that fails."""

from __future__ import annotations

import errno
import os
import socket

from sockd.config.bind import BindAddress
from sockd.errors import StartupError

BACKLOG = 2048


#: The first fd systemd passes (SD_LISTEN_FDS_START).
LISTEN_FDS_START = 3


def inherited_listeners(environ: dict[str, str]) -> list[socket.socket]:
    """Listeners passed by systemd socket activation (``LISTEN_FDS``), if they are ours.

    ``LISTEN_PID`` must name this process: a variable inherited by accident
    from an activated parent must not make us adopt its fds.
    """
    count = environ.get("LISTEN_FDS", "")
    if environ.get("LISTEN_PID") != str(os.getpid()) or not count.isdigit():
        return []
    listeners = []
    for fd in range(LISTEN_FDS_START, LISTEN_FDS_START + int(count)):
        sock = socket.socket(fileno=fd)
        if sock.type != socket.SOCK_STREAM:
            raise StartupError(f"socket activation passed fd {fd}, which is not a stream socket")
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        os.set_inheritable(fd, False)
        listeners.append(sock)
    return listeners


def describe(listener: socket.socket) -> str:
    """``HOST:PORT`` of a listener, for logs."""
    address = listener.getsockname()
    if isinstance(address, str):
        return address
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_listeners(addresses: tuple[BindAddress, ...]) -> list[socket.socket]:
    """Bind and listen on every address; close all of them if one fails."""
    bound: list[socket.socket] = []
    try:
        for address in addresses:
            bound.append(_bind_one(address))
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    return bound


def _bind_one(address: BindAddress) -> socket.socket:
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
