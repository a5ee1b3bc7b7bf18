"""Installing the compat list on a Socket.IO server (and its Engine.IO server), in order.

Two kinds of app reach a worker. An app directory's server is built by sockd: it is an
instance of :data:`AsyncServer`, python-socketio's class with the list's mixins composed
in front (its Engine.IO server comes from ``_engineio_server_class``, the library's hook
for that). A ``MODULE:ATTR`` app brings servers the app already built: they are adopted
once onto the same composition of their own classes (``__class__`` assignment; the
libraries have no hook to choose the class of an existing server), and python-socketio's
Engine.IO event handlers, bound at construction, are bound again to the adopted class.
Then both kinds take the same path: the wrappers of the list, in order, and the worker's
settings.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import engineio
import socketio
from engineio.async_socket import AsyncSocket

from sockd.worker.compat.entries import ENTRIES
from sockd.worker.compat.model import DriverWrap, Entry, SerializerWrap
from sockd.worker.hosting.counters import WorkerCounters

#: python-socketio's Engine.IO event handlers, bound to the server when it is built.
EIO_HANDLERS = {
    "connect": "_handle_eio_connect",
    "message": "_handle_eio_message",
    "disconnect": "_handle_eio_disconnect",
}


@dataclass(frozen=True)
class CompatConfig:
    """The worker's settings the entries use."""

    #: ``--connect-timeout``: seconds a client may take to join a namespace.
    connect_timeout: float | None = None
    #: ``--sticky-key sid``: the worker's slot, named in every session id.
    slot: int | None = None
    #: Where connects and events are counted for the metrics (None: nowhere).
    counters: WorkerCounters | None = None
    #: ``--max-json-depth``: the deepest nesting a Socket.IO packet may have.
    max_json_depth: int = 100


def installed_versions() -> dict[str, str]:
    """The installed version of each library the entries change."""
    return {name: metadata.version(name) for name in {entry.library for entry in ENTRIES}}


def applicable(entries: tuple[Entry, ...], versions: Mapping[str, str]) -> tuple[Entry, ...]:
    """The entries that apply to the installed ``versions``, in the list's order."""
    return tuple(
        entry
        for entry in entries
        if entry.versions is None or versions[entry.library] in entry.versions
    )


def _mixins(base: type) -> tuple[type, ...]:
    """The applicable entries' mixin classes for ``base``'s library class, in order."""
    return tuple(
        entry.fix
        for entry in _active()
        if isinstance(entry.fix, type) and issubclass(entry.fix, base)
    )


@functools.cache
def _active() -> tuple[Entry, ...]:
    return applicable(ENTRIES, installed_versions())


#: Server classes composed so far, by the class they compose: built once each.
_composed: dict[type, type] = {}


def compose(base: type) -> type:
    """``base`` (a library class or an app's subclass of one) behind the list's mixins."""
    if getattr(base, "sockd_composed", False):
        return base
    if base not in _composed:
        _composed[base] = _composition(base)
    return _composed[base]


def _composition(base: type) -> type:
    if issubclass(base, socketio.AsyncServer):
        mixins = _mixins(socketio.AsyncServer)
        engine = compose(engineio.AsyncServer)
        extra: dict[str, Any] = {"_engineio_server_class": lambda self: engine}
    elif issubclass(base, engineio.AsyncServer):
        mixins = _mixins(engineio.AsyncServer)
        extra = {"session_mixins": _mixins(AsyncSocket)}
    else:
        raise TypeError(f"no compat entries for {base!r}")
    namespace = {"sockd_composed": True, "__module__": base.__module__, **extra}
    return type(f"Sockd{base.__name__}", (*mixins, base), namespace)


#: The Socket.IO server class sockd builds for app directories.
AsyncServer: type[socketio.AsyncServer] = compose(socketio.AsyncServer)


def install_engineio(eio: engineio.AsyncServer, config: CompatConfig) -> None:
    """The Engine.IO entries on ``eio`` (a server of its own, or a Socket.IO server's)."""
    eio.__class__ = compose(type(eio))
    driver = dict(eio._async)
    for entry in reversed(_active()):
        if isinstance(entry.fix, DriverWrap):
            driver[entry.fix.name] = entry.fix.wrap(driver[entry.fix.name])
    eio._async = driver
    eio.session_slot = config.slot  # type: ignore[attr-defined]


def install(sio: socketio.AsyncServer, config: CompatConfig) -> None:
    """Every entry on ``sio`` and its Engine.IO server, built by sockd or by the app."""
    install_engineio(sio.eio, config)
    sio.__class__ = compose(type(sio))
    for event, handler in EIO_HANDLERS.items():
        sio.eio.on(event, getattr(sio, handler))
    packet_class = sio.packet_class
    for entry in reversed(_active()):
        if isinstance(entry.fix, SerializerWrap):
            packet_class = entry.fix.wrap(packet_class)
    packet_class.max_json_depth = config.max_json_depth
    sio.packet_class = packet_class
    sio.connect_timeout = config.connect_timeout  # type: ignore[attr-defined]
    sio.sockd_counters = config.counters  # type: ignore[attr-defined]
