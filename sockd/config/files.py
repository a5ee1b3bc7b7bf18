"""The config files of an app: ``config/config.default.toml``, then ``config/config.<env>.toml``.

Each key is checked against the registry as it is read, so an unknown key or a bad value
names its file and key. The open tables (``[io.namespace."/ns"]``, ``[io.middleware.NAME]``)
are read here too: files are their only source.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from sockd.config.given import ConfigError, Given, Origin, accept
from sockd.config.io import NamespaceSettings
from sockd.config.registry import BY_NAME, OPEN_TABLES, SECTIONS

CONFIG_DIR = "config"
DEFAULT_FILE = "config.default.toml"
_SECTION_TABLES = {section.table for section in SECTIONS}
_CONTAINERS = {
    table.rsplit(".", 1)[0] for table in [*_SECTION_TABLES, *OPEN_TABLES] if "." in table
}


@dataclass
class FileLayer:
    """What the files of one environment set, the later file winning key by key."""

    given: dict[str, Given] = field(default_factory=dict)
    #: Tables the files hold (an empty ``[io.redis]`` turns Redis on).
    tables: set[str] = field(default_factory=set)
    namespaces: dict[str, NamespaceSettings] = field(default_factory=dict)
    middleware: dict[str, dict[str, Any]] = field(default_factory=dict)


def config_files(root: Path, env: str) -> list[Path]:
    """The files that apply to ``env``, lowest precedence first."""
    directory = root / CONFIG_DIR
    names = [DEFAULT_FILE, f"config.{env}.toml"]
    return [directory / name for name in names if (directory / name).is_file()]


def environments(root: Path) -> list[str]:
    """The environments that have a file of their own (``config.<env>.toml``)."""
    directory = root / CONFIG_DIR
    found = (path.name for path in directory.glob("config.*.toml") if path.name != DEFAULT_FILE)
    return sorted(name.removeprefix("config.").removesuffix(".toml") for name in found)


def read_files(root: Path, env: str) -> FileLayer:
    layer = FileLayer()
    for path in config_files(root, env):
        _Reader(layer, _display(path)).table(_load(path), "")
    return layer


class _Reader:
    """Reads one file's document into the layer."""

    def __init__(self, layer: FileLayer, shown_path: str) -> None:
        self._layer = layer
        self._path = shown_path

    def table(self, document: dict[str, Any], path: str) -> None:
        for key, value in document.items():
            dotted = f"{path}.{key}" if path else key
            if dotted in _SECTION_TABLES:
                self._section(dotted, self._mapping(dotted, value))
            elif dotted == "io.namespace":
                self._namespaces(self._mapping(dotted, value))
            elif dotted == "io.middleware":
                self._middleware(self._mapping(dotted, value))
            elif dotted in _CONTAINERS:
                self.table(self._mapping(dotted, value), dotted)
            elif isinstance(value, dict):
                tables = [*_SECTION_TABLES, *_CONTAINERS, *OPEN_TABLES]
                raise ConfigError(f"{self._path}: unknown table [{dotted}]{_hint(dotted, tables)}")
            else:
                self._unknown_key(key, path)

    def _section(self, table: str, values: dict[str, Any]) -> None:
        self._layer.tables.add(table)
        for key, raw in values.items():
            declared = BY_NAME.get(f"{table}.{key}")
            if declared is None:
                self._unknown_key(key, table)
            where = f"{self._path}: {declared.label}"
            self._layer.given[declared.name] = accept(declared, raw, Origin.FILE, where)

    def _namespaces(self, tables: dict[str, Any]) -> None:
        fields = ("connection_middleware", "packet_middleware")
        for name, raw in tables.items():
            where = f'{self._path}: [io.namespace."{name}"]'
            if not name.startswith("/"):
                raise ConfigError(f'{where}: a namespace starts with "/", e.g. "/{name}"')
            values = self._mapping(f'io.namespace."{name}"', raw)
            for key, names in values.items():
                if key not in fields:
                    raise ConfigError(f"{where}: unknown key {key}{_hint(key, list(fields))}")
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ConfigError(f"{where} {key}: expected a list of middleware names")
            current = self._layer.namespaces.get(name, NamespaceSettings())
            merged = {key: getattr(current, key) for key in fields}
            merged.update({key: tuple(names) for key, names in values.items()})
            self._layer.namespaces[name] = NamespaceSettings(**merged)

    def _middleware(self, tables: dict[str, Any]) -> None:
        for name, raw in tables.items():
            options = self._mapping(f"io.middleware.{name}", raw)
            merged = _deep_merge(self._layer.middleware.get(name, {}), options)
            self._layer.middleware[name] = merged

    def _mapping(self, table: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ConfigError(f"{self._path}: [{table}] must be a table")
        return value

    def _unknown_key(self, key: str, table: str) -> NoReturn:
        if table:
            keys = [s.key for s in BY_NAME.values() if s.table == table]
            raise ConfigError(f"{self._path}: unknown key [{table}] {key}{_hint(key, keys)}")
        tables = [s.label for s in BY_NAME.values() if s.key == key]
        hint = f" (settings sit in tables: {tables[0]})" if tables else ""
        raise ConfigError(f"{self._path}: unknown key {key}{hint}")


def _hint(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_display(path)}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{_display(path)}: cannot read: {exc.strerror}") from None


def _deep_merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` over ``base``; tables merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _display(path: Path) -> str:
    """The path as the user would write it: relative to here when below here."""
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative
