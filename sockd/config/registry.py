"""Every setting sockd knows: the sections of :class:`Settings`, and ``REGISTRY``, their list.

Code reads typed values: ``settings.cluster.workers``, ``settings.io.init.ping_interval``.
Flags, variables, ``sockd config``, the README table and ``config/config.default.toml`` are
all made from ``REGISTRY``; a key of a file that is not in it is an error naming the key.

Adding a setting is one declaration in its section, then its use. For example, in
:class:`sockd.config.io.RedisSettings`::

    bus: Literal["pubsub", "streams"] = setting(
        "pubsub", help="How workers share broadcasts through Redis."
    )

and where it is used, ``options.settings.io.redis.bus``. From that line alone it is read
from files as ``[io.redis] bus``, from ``SOCKD_IO_REDIS_BUS``, refused with the choices
named when it is neither, changed by a reload (``reloadable=False`` would keep the running
value and warn), shown by ``sockd config``; ``flags=("--redis-bus",)`` would make it a flag
of start, dev and config. ``python tools/settings_reference.py --write`` then puts it in
the README and config/config.default.toml (a unit test fails until it is run).

A new table is a new section: a frozen dataclass of ``setting`` fields, placed by a field
of its parent (``recovery: RecoverySettings = field(default_factory=RecoverySettings)`` in
:class:`IOSettings` makes ``[io.recovery]``; ``X | None = None`` makes it off unless set).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from sockd.config.cluster import ClusterSettings
from sockd.config.io import EngineIOSettings, NamespaceSettings, RecoverySettings, RedisSettings
from sockd.config.session import SessionSettings
from sockd.config.setting import Setting, declared_settings, is_section


@dataclass(frozen=True)
class IOSettings:
    init: EngineIOSettings = field(default_factory=EngineIOSettings)
    #: None unless a file has an ``[io.redis]`` table or a flag or variable sets one of it.
    redis: RedisSettings | None = None
    recovery: RecoverySettings = field(default_factory=RecoverySettings)
    #: ``[io.namespace."/ns"]``, from files only (open-ended keys).
    namespace: Mapping[str, NamespaceSettings] = field(default_factory=dict)
    #: ``[io.middleware.NAME]``: each middleware factory's options, from files only.
    middleware: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """The effective settings of one sockd."""

    cluster: ClusterSettings = field(default_factory=ClusterSettings)
    io: IOSettings = field(default_factory=IOSettings)
    session: SessionSettings = field(default_factory=SessionSettings)


@dataclass(frozen=True)
class Section:
    """Where a dataclass of settings sits: ``io.redis``, and whether it may be absent."""

    table: str
    cls: type
    optional: bool


def _walk(container: type, path: str) -> Iterator[Section]:
    hints = typing.get_type_hints(container)
    for entry in dataclasses.fields(container):
        kind, optional = _unwrap_optional(hints[entry.name])
        table = f"{path}.{entry.name}" if path else entry.name
        if is_section(kind):
            yield Section(table, kind, optional)
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind):
            yield from _walk(kind, table)


def _unwrap_optional(kind: Any) -> tuple[Any, bool]:
    if typing.get_origin(kind) in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return options[0], True
    return kind, False


SECTIONS: tuple[Section, ...] = tuple(_walk(Settings, ""))
REGISTRY: tuple[Setting, ...] = tuple(
    declared for section in SECTIONS for declared in declared_settings(section.cls, section.table)
)
BY_NAME: Mapping[str, Setting] = {declared.name: declared for declared in REGISTRY}
#: Tables whose keys are names the user chooses; they come from files only.
OPEN_TABLES = ("io.namespace", "io.middleware")


def section_of(settings: Settings, table: str) -> Any:
    """The section at ``table`` (``io.init``), or None for an absent optional one."""
    node: Any = settings
    for part in table.split("."):
        node = getattr(node, part) if node is not None else None
    return node


def value_of(settings: Settings, declared: Setting) -> Any:
    section = section_of(settings, declared.table)
    return declared.default if section is None else getattr(section, declared.key)


def assemble(
    values: Mapping[str, Any],
    present: frozenset[str] = frozenset(),
    open_tables: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Settings from values by setting name; an optional section is built if in ``present``."""
    built: Settings = _build(Settings, "", values, present, open_tables or {})
    return built


def with_values(settings: Settings, values: Mapping[str, Any]) -> Settings:
    """``settings`` with some values replaced (by setting name)."""
    current = {
        declared.name: value_of(settings, declared)
        for declared in REGISTRY
        if section_of(settings, declared.table) is not None
    }
    present = frozenset(s.table for s in SECTIONS if section_of(settings, s.table) is not None)
    tables = {table: section_of(settings, table) for table in OPEN_TABLES}
    return assemble({**current, **values}, present, tables)


def _build(
    container: type,
    path: str,
    values: Mapping[str, Any],
    present: frozenset[str],
    open_tables: Mapping[str, Mapping[str, Any]],
) -> Any:
    hints = typing.get_type_hints(container)
    arguments: dict[str, Any] = {}
    for entry in dataclasses.fields(container):
        kind, optional = _unwrap_optional(hints[entry.name])
        table = f"{path}.{entry.name}" if path else entry.name
        if is_section(kind):
            if optional and table not in present:
                arguments[entry.name] = None
                continue
            known = {key: values[f"{table}.{key}"] for key in _keys(kind, table, values)}
            arguments[entry.name] = kind(**known)
        elif isinstance(kind, type) and dataclasses.is_dataclass(kind):
            arguments[entry.name] = _build(kind, table, values, present, open_tables)
        elif table in open_tables:
            arguments[entry.name] = dict(open_tables[table])
    return container(**arguments)


def _keys(section: type, table: str, values: Mapping[str, Any]) -> list[str]:
    names = (entry.name for entry in dataclasses.fields(section))
    return [name for name in names if f"{table}.{name}" in values]
