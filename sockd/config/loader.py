"""Reading settings: defaults, then ``config/config.default.toml``, then
``config/config.<env>.toml``, then command-line flags, each winning over the last.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sockd.config.schema import Settings
from sockd.errors import UserError

CONFIG_DIR = "config"


class ConfigError(UserError):
    """A config file or flag is wrong; the message names the file and the key."""


def config_files(root: Path, env: str) -> list[Path]:
    """The config files that apply to ``env``, lowest precedence first."""
    directory = root / CONFIG_DIR
    names = ["config.default.toml", f"config.{env}.toml"]
    return [directory / name for name in names if (directory / name).is_file()]


def load_settings(root: Path, env: str, overrides: dict[str, Any] | None = None) -> Settings:
    """Merge the files for ``env`` under ``root`` and the ``overrides`` into settings."""
    merged: dict[str, Any] = {}
    for path in config_files(root, env):
        layer = _read(path)
        _validate(layer, str(path))  # name the file that holds a bad key
        merged = deep_merge(merged, layer)
    if overrides:
        merged = deep_merge(merged, overrides)
    return _validate(merged, "the command line and config files")


def deep_merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer`` over ``base``; tables merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _validate(data: dict[str, Any], where: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r}"
    return f"{key}: {error['msg']} (got {error.get('input')!r})"
