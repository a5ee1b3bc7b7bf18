"""The effective settings: defaults < config files < ``SOCKD_*`` variables < the command line.

``start``, ``dev`` and ``config`` all come here, and so does every reload (with the command
line the master kept), so they accept and refuse exactly the same things.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from sockd.config.app_target import resolve_target
from sockd.config.command_line import CommandLine
from sockd.config.environment import DEV_ENV, START_ENV, resolve_env, variable_layer
from sockd.config.files import read_files
from sockd.config.given import Given
from sockd.config.options import ClusterOptions, WorkerOptions
from sockd.config.registry import assemble
from sockd.config.rules import apply_rules


@dataclass(frozen=True)
class Loaded:
    options: ClusterOptions
    #: Where each value that is not a default came from, by setting name.
    given: Mapping[str, Given]
    #: Not errors, but worth a line: unknown ``SOCKD_*`` variables.
    warnings: tuple[str, ...]


def load(command_line: CommandLine, environ: Mapping[str, str]) -> Loaded:
    """Read every source for ``command_line``; a ConfigError names the source at fault."""
    target = resolve_target(command_line.app_spec, command_line.app_dir)
    default_env = DEV_ENV if command_line.command == "dev" else START_ENV
    env = resolve_env(command_line.env, environ, target.root, default_env)
    files = read_files(target.root, env)
    variables, warnings = variable_layer(environ)
    given = {**files.given, **variables, **command_line.given}
    present = frozenset(files.tables | {name.rpartition(".")[0] for name in given})
    settings = assemble(
        {name: value.value for name, value in given.items()},
        present,
        {"io.namespace": files.namespaces, "io.middleware": files.middleware},
    )
    settings = apply_rules(settings, given, target, env)
    options = ClusterOptions(
        WorkerOptions(settings, target, env),
        flags=command_line,
        watch=command_line.command == "dev",
    )
    return Loaded(options, MappingProxyType(given), tuple(warnings))
