"""Settings from ``SOCKD_*`` variables, as containers pass them, and the config environment.

Each setting has one variable: ``SOCKD_<KEY>`` for ``[cluster]``, else
``SOCKD_<TABLE>_<KEY>`` (``SOCKD_IO_INIT_PING_INTERVAL``). Values are read by the setting's
type (``8``, ``true``, ``a,b`` or ``["a", "b"]``); an empty variable counts as unset. An
unknown ``SOCKD_*`` variable is a warning naming the nearest known one, not an error:
deployments set variables of their own (``SOCKD_DEPLOY_ID``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path

from sockd.config.files import CONFIG_DIR, environments
from sockd.config.given import ConfigError, Given, Origin, accept
from sockd.config.registry import REGISTRY
from sockd.config.setting import PREFIX

#: The variable naming the config environment, as Egg's EGG_SERVER_ENV.
ENV_VARIABLE = "SOCKD_ENV"
#: ``SOCKD_*`` variables that sockd reads and that are not settings, with their meaning.
OTHER_VARIABLES = {ENV_VARIABLE: "the config environment (config/config.<env>.toml)"}
#: The environments ``start`` and ``dev`` use when none is named (as egg-scripts and
#: egg-bin dev); they need no file of their own, named or not.
START_ENV, DEV_ENV = "prod", "local"
DEFAULT_ENVS = (START_ENV, DEV_ENV)
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_BY_VARIABLE = {declared.variable: declared for declared in REGISTRY}


def variable_layer(environ: Mapping[str, str]) -> tuple[dict[str, Given], list[str]]:
    """The settings the ``SOCKD_*`` variables set, by setting name, and the warnings."""
    given: dict[str, Given] = {}
    warnings = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in OTHER_VARIABLES:
            continue
        declared = _BY_VARIABLE.get(name)
        if declared is None:
            warnings.append(unknown_variable(name))
        elif environ[name] != "":
            given[declared.name] = accept(declared, environ[name], Origin.VARIABLE, name)
    return given, warnings


def unknown_variable(name: str) -> str:
    known = [*_BY_VARIABLE, *OTHER_VARIABLES]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]}?" if close else "no sockd setting has that name"
    return f"unknown environment variable {name} ignored ({hint})"


def resolve_env(flag: str | None, environ: Mapping[str, str], root: Path, default: str) -> str:
    """The config environment: ``--env``, else ``$SOCKD_ENV``, else ``default``.

    One that is named must have its file when the app has a config directory, so a typo
    (``SOCKD_ENV=prdo``) does not silently run on the defaults.
    """
    if flag:
        env, where = flag, f"--env {flag}"
    elif environ.get(ENV_VARIABLE):
        env = environ[ENV_VARIABLE]
        where = f"{ENV_VARIABLE}={env}"
    else:
        return default
    if not _ENV_NAME.fullmatch(env):
        raise ConfigError(f"{where}: an environment name is letters, digits, '.', '_' or '-'")
    directory = root / CONFIG_DIR
    has_file = (directory / f"config.{env}.toml").is_file()
    if env in DEFAULT_ENVS or has_file or not directory.is_dir():
        return env
    known = environments(root)
    listed = ", ".join(known) if known else "none besides config.default.toml"
    raise ConfigError(
        f"{where}: there is no {CONFIG_DIR}/config.{env}.toml in {root}; its environments: {listed}"
    )
