"""Settings as JSON-ready tables, for ``sockd config`` and for the worker's options frame."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sockd.config.io import NamespaceSettings
from sockd.config.registry import REGISTRY, SECTIONS, Settings, assemble, section_of
from sockd.config.values import coerce

#: What ``sockd config`` shows instead of a secret that is set.
HIDDEN = "(set, not shown)"


def settings_to_data(settings: Settings, hide_secrets: bool = False) -> dict[str, Any]:
    """Nested tables as the config files write them (``{"io": {"init": {...}}}``)."""
    data: dict[str, Any] = {}
    for section in SECTIONS:
        _table(data, section.table)
        if section_of(settings, section.table) is None:
            _set(data, section.table, None)
    for declared in REGISTRY:
        section = section_of(settings, declared.table)
        if section is None:
            continue
        value = getattr(section, declared.key)
        if hide_secrets and declared.secret and value is not None:
            value = HIDDEN
        _table(data, declared.table)[declared.key] = _plain(value)
    io = _table(data, "io")
    io["namespace"] = {
        name: _plain(dataclasses.asdict(ns)) for name, ns in settings.io.namespace.items()
    }
    io["middleware"] = _plain(settings.io.middleware)
    return data


def settings_from_data(data: Mapping[str, Any]) -> Settings:
    """The inverse of :func:`settings_to_data` (without hidden secrets)."""
    values: dict[str, Any] = {}
    present = set()
    for section in SECTIONS:
        table = _lookup(data, section.table)
        if table is None:
            continue
        present.add(section.table)
        for declared in REGISTRY:
            if declared.table == section.table and declared.key in table:
                values[declared.name] = coerce(declared.type, table[declared.key])
    io = data.get("io", {})
    namespaces = {
        name: NamespaceSettings(**{k: tuple(v) for k, v in ns.items()})
        for name, ns in io.get("namespace", {}).items()
    }
    open_tables = {"io.namespace": namespaces, "io.middleware": io.get("middleware", {})}
    return assemble(values, frozenset(present), open_tables)


def _table(data: dict[str, Any], table: str) -> dict[str, Any]:
    node = data
    for part in table.split("."):
        node = node.setdefault(part, {})
    return node


def _set(data: dict[str, Any], table: str, value: Any) -> None:
    parent, _, last = table.rpartition(".")
    (_table(data, parent) if parent else data)[last] = value


def _lookup(data: Mapping[str, Any], table: str) -> Any:
    node: Any = data
    for part in table.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _plain(value: Any) -> Any:
    """JSON-ready: tuples as lists, addresses as text."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
