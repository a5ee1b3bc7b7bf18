"""The options of ``start``, ``dev`` and ``config``, made from the settings registry.

A flag left out is absent from the command line (click's ``None``), so it does not
override the files and variables below it. Values stay text here and are read and checked
by :mod:`sockd.config`, as variables are, so both give the same errors.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

import click

from sockd.config.command_line import Command, CommandLine
from sockd.config.environment import ENV_VARIABLE, START_ENV
from sockd.config.given import Given, Origin, accept, toml_value
from sockd.config.registry import REGISTRY
from sockd.config.setting import Setting

#: Parameters that are not settings: what to serve, and the config environment.
APP_SPEC, APP_DIR, ENV = "app_spec", "app_dir", "env"


def command_params() -> list[click.Parameter]:
    """The arguments and options ``start``, ``dev`` and ``config`` share."""
    params: list[click.Parameter] = [
        click.Argument([APP_SPEC], required=False, metavar="[APP_DIR | MODULE:ATTR]"),
        click.Option(
            ["--env", ENV],
            metavar="ENV",
            help="Config environment: reads config/config.ENV.toml over config.default.toml. "
            f"[env: {ENV_VARIABLE}; default: {START_ENV}, local for sockd dev]",
        ),
        click.Option(
            ["--app-dir", APP_DIR],
            metavar="DIR",
            help="Directory to import MODULE:ATTR from (and its config/). [default: .]",
        ),
    ]
    params += [_option(declared) for declared in REGISTRY if declared.flags]
    return params


def command_line(command: Command, values: Mapping[str, Any]) -> CommandLine:
    """The command line from click's values; each given flag checked as its setting."""
    given: dict[str, Given] = {}
    for declared in REGISTRY:
        raw = values.get(_parameter_name(declared))
        if raw is None or raw == ():
            continue
        if isinstance(raw, tuple):
            raw = list(raw)
        given[declared.name] = accept(declared, raw, Origin.FLAG, declared.flag or "")
    return CommandLine(command, values.get(APP_SPEC), values.get(APP_DIR), values.get(ENV), given)


def _option(declared: Setting) -> click.Option:
    name = _parameter_name(declared)
    if declared.type is bool:
        long = declared.flag or ""
        declarations = [f"{long}/--no-{long.removeprefix('--')}", name]
        return click.Option(declarations, default=None, help=_help(declared))
    return click.Option(
        [*declared.flags, name],
        default=None,
        multiple=typing.get_origin(declared.type) is tuple,
        metavar=declared.metavar or _metavar(declared.type),
        help=_help(declared),
    )


def _parameter_name(declared: Setting) -> str:
    return declared.name.replace(".", "__")


def _help(declared: Setting) -> str:
    notes = []
    default = declared.default
    if default not in (None, (), False):
        shown = f"{default:g}" if isinstance(default, float) else toml_value(default)
        notes.append(f"default: {shown.strip(chr(34))}")
    notes.append(f"env: {declared.variable}")
    return f"{declared.help} [{'; '.join(notes)}]"


def _metavar(kind: Any) -> str:
    if typing.get_origin(kind) is typing.Literal:
        return "[" + "|".join(typing.get_args(kind)) + "]"
    names = {int: "INTEGER", float: "NUMBER"}
    return next((names[k] for k in typing.get_args(kind) or (kind,) if k in names), "TEXT")
