"""What one compat entry is: a change to a library's internals, and what it relies on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The library each top-level module belongs to (its distribution name).
LIBRARIES = {"engineio": "python-engineio", "socketio": "python-socketio", "uvicorn": "uvicorn"}

Version = tuple[int, int, int]


def parse_version(text: str) -> Version:
    """``"4.15.1"`` as ``(4, 15, 1)``; a missing patch is 0, suffixes are ignored."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


@dataclass(frozen=True)
class Versions:
    """An inclusive range of a library's releases: ``lowest``-``newest``."""

    lowest: str
    newest: str

    def __contains__(self, version: str) -> bool:
        return parse_version(self.lowest) <= parse_version(version) <= parse_version(self.newest)

    def __str__(self) -> str:
        return f"{self.lowest}-{self.newest}"


@dataclass(frozen=True)
class Need:
    """A library attribute an entry relies on: ``path`` (``module.Class.attr``), and the
    names of its parameters when it is a callable whose signature matters."""

    path: str
    params: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DriverWrap:
    """Wraps a function of an Engine.IO server's ASGI driver table (``eio._async``, per
    server), ``translate_request`` unless ``name`` says otherwise: ``wrap(f) -> f``."""

    wrap: Callable[[Any], Any]
    name: str = "translate_request"


@dataclass(frozen=True)
class SerializerWrap:
    """Wraps a Socket.IO server's packet class (what its ``serializer=`` argument sets):
    ``wrap(packet_class) -> packet_class``."""

    wrap: Callable[[type[Any]], type[Any]]


@dataclass(frozen=True)
class AppliedBy:
    """Applied where uvicorn is set up (by configuration and subclasses), not by
    :mod:`sockd.worker.compat.install`: ``module`` says where."""

    module: str


#: A mixin class (composed in front of the library class it subclasses), or one of the above.
Fix = type | DriverWrap | SerializerWrap | AppliedBy


@dataclass(frozen=True)
class Entry:
    """One change to a library's internals.

    ``target``: what is changed (``module.Class.attr``); ``fix``: how; ``why``: one line,
    naming the module that states the gap or the measured gain; ``upstream``: the change in
    the library that would remove the entry; ``needs``: what the guard checks before the
    worker starts; ``versions``: where the entry applies, if not the library's whole
    tested range.
    """

    target: str
    fix: Fix
    why: str
    upstream: str
    needs: tuple[Need, ...] = ()
    versions: Versions | None = None

    @property
    def library(self) -> str:
        return LIBRARIES[self.target.partition(".")[0]]
