"""A value as one source gave it, and where from, so every error can name its source.

Sources: a flag (``--workers``), a variable (``SOCKD_WORKERS``), a file and key
(``config/config.prod.toml: [cluster] workers``), or a command's own choice (``sockd dev``
runs one worker unless told otherwise).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from sockd.config.setting import Setting
from sockd.config.values import coerce, from_text
from sockd.errors import UserError


class ConfigError(UserError):
    """A setting is wrong; the message names where it came from."""


class Origin(enum.Enum):
    FLAG = "flag"
    VARIABLE = "variable"
    FILE = "file"
    COMMAND = "command"


@dataclass(frozen=True)
class Given:
    """A checked value and its source: the flag, the variable, ``FILE: [table] key``, a command."""

    value: Any
    origin: Origin
    where: str


def accept(declared: Setting, raw: Any, origin: Origin, where: str) -> Given:
    """``raw`` checked for ``declared``: TOML values from files, text from flags and variables."""
    try:
        read = from_text if isinstance(raw, str) and origin is not Origin.FILE else coerce
        value = read(declared.type, raw)
        if value is not None and declared.check is not None:
            value = declared.check(value)
    except ValueError as exc:
        raise ConfigError(f"{phrase(declared, Given(raw, origin, where), raw)}: {exc}") from None
    return Given(value, origin, where)


def phrase(declared: Setting, given: Given | None, value: Any) -> str:
    """How the user wrote ``value``: ``--sticky-key forwarded``, ``SOCKD_WORKERS=8``,
    ``config/config.prod.toml: [cluster] workers = 8``; a secret shows as ``(set)``."""
    if given is None:
        return f"{declared.label} = {_shown(declared, value, toml=True)} (the default)"
    if given.origin is Origin.FLAG:
        if isinstance(value, bool):
            return given.where if value else "--no-" + given.where.removeprefix("--")
        return f"{given.where} {_shown(declared, value, toml=False)}"
    if given.origin is Origin.VARIABLE:
        return f"{given.where}={_shown(declared, value, toml=False)}"
    if given.origin is Origin.COMMAND:
        return f"{declared.label} = {_shown(declared, value, toml=True)} (set by {given.where})"
    return f"{given.where} = {_shown(declared, value, toml=True)}"


def toml_value(value: Any) -> str:
    """A value as TOML writes it: ``true``, ``8``, ``"text"``, ``["a", "b"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, int | float | str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(str(value))


def _shown(declared: Setting, value: Any, toml: bool) -> str:
    if declared.secret:
        return "(set)"
    if toml:
        return toml_value(value)
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return value if isinstance(value, str) else toml_value(value)
