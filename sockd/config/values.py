"""A setting's value from a config file, a flag or a variable, checked against its type.

Types are the fields' annotations: ``bool``, ``int``, ``float``, ``str``, ``Literal[...]``
(choices), ``tuple[X, ...]`` (lists), ``Mapping[str, Any]`` (tables), unions of those with
``None``, and classes with a ``parse(text)`` classmethod (``BindAddress``). A file gives
TOML values; flags and variables give text, read by the type: ``8``, ``true``, ``a,b`` or
``["a", "b"]`` for lists, ``{...}`` for tables. A ValueError says what was expected.
"""

from __future__ import annotations

import collections.abc
import tomllib
import types
from typing import Any, Literal, Union, get_args, get_origin

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def coerce(kind: Any, value: Any) -> Any:
    """``value`` (as TOML gives it) as a value of type ``kind``."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):
        return _coerce_union(kind, args, value)
    if origin is Literal:
        if isinstance(value, str) and value in args:
            return value
    elif origin is tuple:
        if isinstance(value, list | tuple):
            return tuple(_coerce_item(args[0], item) for item in value)
    elif origin in (dict, collections.abc.Mapping):
        if isinstance(value, dict):
            return dict(value)
    elif kind is Any:
        return value
    elif kind is bool or kind is str:
        if isinstance(value, kind):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hasattr(kind, "parse"):
        return value if isinstance(value, kind) else _parse(kind, value)
    else:
        raise TypeError(f"settings of type {kind!r} are not supported")
    raise ValueError(f"expected {describe(kind)}")


def from_text(kind: Any, text: str) -> Any:
    """``text`` (a flag's or a variable's) as a value of type ``kind``."""
    return coerce(kind, _read_text(kind, text))


def describe(kind: Any) -> str:
    """What a value of ``kind`` looks like, for error messages and the reference."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):
        return " or ".join(describe(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if origin is tuple:
        return f"a list of {_plural(args[0])}"
    if origin in (dict, collections.abc.Mapping):
        return "a table"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(kind) or getattr(kind, "DESCRIPTION", kind.__name__)


def _coerce_union(kind: Any, options: tuple[Any, ...], value: Any) -> Any:
    if value is None and type(None) in options:
        return None
    problems = []
    for option in options:
        if option is type(None):
            continue
        try:
            return coerce(option, value)
        except ValueError as exc:
            problems.append(str(exc))
    raise ValueError(problems[0] if len(problems) == 1 else f"expected {describe(kind)}")


def _coerce_item(kind: Any, item: Any) -> Any:
    try:
        return coerce(kind, item)
    except ValueError as exc:
        raise ValueError(f"{item!r} in the list: {exc}") from None


def _parse(kind: Any, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"expected {describe(kind)}")
    return kind.parse(value)


def _plural(kind: Any) -> str:
    if get_origin(kind) is Literal:
        return ", ".join(repr(arg) for arg in get_args(kind))
    return {str: "strings", int: "integers", float: "numbers"}.get(kind) or describe(kind)


def _read_text(kind: Any, text: str) -> Any:
    """Turn text into what a TOML file would have held for ``kind``."""
    options = get_args(kind) if get_origin(kind) in (Union, types.UnionType) else (kind,)
    origins = {get_origin(option) for option in options}
    takes_list = tuple in origins
    stripped = text.strip()
    if stripped[:1] in ('"', "[", "{"):
        try:
            return tomllib.loads(f"value = {stripped}")["value"]
        except tomllib.TOMLDecodeError:
            pass  # not TOML: "[::1]:7001" is an address, not a list
    if takes_list and ("," in text or not ({str, Literal} & (set(options) | origins))):
        return [item.strip() for item in text.split(",") if item.strip()]
    if bool in options and stripped.lower() in _TRUE + _FALSE:
        return stripped.lower() in _TRUE
    for number in (int, float):
        if number in options:
            try:
                return number(stripped)
            except ValueError:
                pass
    return text
