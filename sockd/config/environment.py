"""Settings from environment variables, as containers pass them: ``SOCKD_WORKERS=8``.

Cluster settings are ``SOCKD_<KEY>``; the others ``SOCKD_<SECTION>_<KEY>``
(``SOCKD_IO_INIT_PING_INTERVAL``, ``SOCKD_SESSION_SECRET``). Values are read
as TOML values (``8``, ``true``, ``["a", "b"]``) and otherwise as text; a list
setting also takes comma-separated text. Per-namespace and per-middleware
tables have open-ended keys and come from files only.
"""

from __future__ import annotations

import tomllib
import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from sockd.config.schema import Settings
from sockd.errors import UserError

PREFIX = "SOCKD_"
#: SOCKD_ variables that are not settings.
OTHER_VARIABLES = {"SOCKD_ENV": "the config environment (config/config.<env>.toml)"}


def variables() -> dict[str, tuple[str, ...]]:
    """Every settings variable and the settings path it sets."""
    return {_name(path): path for path, _ in _leaf_fields(Settings, ())}


def environment_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """The settings the ``SOCKD_*`` variables of ``environ`` set, as nested tables."""
    known = variables()
    annotations = dict(_leaf_fields(Settings, ()))
    overrides: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(PREFIX) or name in OTHER_VARIABLES:
            continue
        path = known.get(name)
        if path is None:
            raise UserError(
                f"unknown environment variable {name}; sockd reads "
                f"{', '.join(sorted([*known, *OTHER_VARIABLES]))}"
            )
        table = overrides
        for part in path[:-1]:
            table = table.setdefault(part, {})
        table[path[-1]] = _parse(raw, annotations[path])
    return overrides


def _name(path: tuple[str, ...]) -> str:
    parts = path[1:] if path[0] == "cluster" else path
    return PREFIX + "_".join(parts).upper()


def _leaf_fields(
    model: type[BaseModel], path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, info in model.model_fields.items():
        nested = _model_in(info.annotation)
        if nested is not None:
            yield from _leaf_fields(nested, (*path, name))
        elif get_origin(info.annotation) is not dict:
            yield (*path, name), info.annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The settings model inside ``annotation`` (``RedisSettings | None`` too)."""
    candidates = get_args(annotation) if _is_union(annotation) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _parse(raw: str, annotation: Any) -> Any:
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        pass
    if _takes_a_list(annotation):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _takes_a_list(annotation: Any) -> bool:
    options = get_args(annotation) if _is_union(annotation) else (annotation,)
    return any(get_origin(option) in (list, tuple) for option in options)
