"""Refusing to start a worker on library versions the compat list does not fit.

Before a worker loads the app it checks each library's installed version against the
tested range (:data:`sockd.worker.compat.entries.TESTED`) and every attribute and signature
the applicable entries rely on. A mismatch fails the start with one line naming the
library, its version and what changed, instead of an AttributeError deep inside a worker
at its first client.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from sockd.errors import UserError
from sockd.worker.compat.entries import ENTRIES, TESTED
from sockd.worker.compat.install import applicable, installed_versions
from sockd.worker.compat.model import Entry, Need, Versions


class UnsupportedLibrary(UserError):
    """An installed library that sockd's compat list does not fit."""


def check_libraries(
    versions: Mapping[str, str] | None = None,
    tested: Mapping[str, Versions] = TESTED,
    entries: tuple[Entry, ...] = ENTRIES,
) -> None:
    """Raise :class:`UnsupportedLibrary` unless every library fits; ``versions`` are the
    installed ones (read from the environment by default)."""
    versions = installed_versions() if versions is None else versions
    for entry in applicable(entries, versions):
        for need in entry.needs:
            problem = need_problem(need)
            if problem is not None:
                raise _unsupported(entry.library, versions, tested, problem)
    for library, supported in tested.items():
        if versions[library] not in supported:
            raise _unsupported(library, versions, tested, "a version sockd is not tested with")


def need_problem(need: Need) -> str | None:
    """What is wrong with the library attribute ``need`` describes, or None."""
    name = ".".join(need.path.split(".")[-2:])
    try:
        target = resolve(need.path)
    except (ImportError, AttributeError):
        return f"{name} is gone"
    if need.params is None:
        return None
    try:
        params = tuple(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return f"{name} is not a function"
    if params != need.params:
        return f"{name} changed"
    return None


def resolve(path: str) -> Any:
    """The object at dotted ``path``: the longest importable module, then attributes."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            if split == 1:
                raise
            continue
        for attr in parts[split:]:
            target = getattr(target, attr)
        return target
    raise ImportError(path)


def _unsupported(
    library: str, versions: Mapping[str, str], tested: Mapping[str, Versions], problem: str
) -> UnsupportedLibrary:
    return UnsupportedLibrary(
        f"{library} {versions[library]} is not supported by sockd {_sockd_version()}: "
        f"{problem}; supported: {tested[library]}"
    )


def _sockd_version() -> str:
    try:
        return metadata.version("sockd")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "(source)"
