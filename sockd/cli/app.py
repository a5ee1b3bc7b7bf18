"""The ``sockd`` command line.

Every mistake a user can make ends in one ``sockd: error: ...`` line and a non-zero exit
code, never a traceback. ``start``, ``dev`` and ``config`` take the flags the settings
registry declares and load settings the same way (:mod:`sockd.config.loader`), so
``sockd config`` refuses exactly what ``sockd start`` refuses.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from sockd import __version__
from sockd.cli import control_commands, top
from sockd.cli.setting_options import command_line, command_params
from sockd.config.command_line import Command, CommandLine
from sockd.config.given import Given, Origin
from sockd.config.loader import Loaded, load
from sockd.config.options import ClusterOptions
from sockd.config.serialize import settings_to_data
from sockd.errors import UserError

log = logging.getLogger("sockd.master")

cli = click.Group(
    "sockd",
    no_args_is_help=True,
    help="Run a python-socketio app on N worker processes behind one port, with sticky sessions.",
)


def _start(line: CommandLine) -> None:
    from sockd.supervisor.master import run_master  # the master's modules, only when needed

    raise SystemExit(run_master(_load(line).options, reload_options))


def _dev(line: CommandLine) -> None:
    _start(dev_command_line(line))


def dev_command_line(line: CommandLine) -> CommandLine:
    """``sockd dev``: one worker in the foreground whatever the files say; flags still win."""
    daemon = line.given.get("cluster.daemon")
    if daemon is not None and daemon.value:
        raise UserError(
            "sockd dev runs in the foreground; sockd start --daemon runs in the background"
        )
    own = {
        name: Given(value, Origin.COMMAND, "sockd dev")
        for name, value in (("cluster.workers", 1), ("cluster.daemon", False))
    }
    return dataclasses.replace(line, given={**own, **line.given})


def _config(line: CommandLine) -> None:
    options = _load(line).options
    shown = {
        "app": options.worker.app.module_spec or str(options.worker.app.root),
        "env": options.worker.env,
        **settings_to_data(options.settings, hide_secrets=True),
    }
    click.echo(json.dumps(shown, indent=2))


def _load(line: CommandLine) -> Loaded:
    loaded = load(line, os.environ)
    for warning in loaded.warnings:
        print(f"sockd: warning: {warning}", file=sys.stderr)
    return loaded


def reload_options(flags: CommandLine, workers: int | None) -> ClusterOptions:
    """What a reload serves with: the files read anew under the start's command line."""
    loaded = load(flags if workers is None else flags.with_workers(workers), os.environ)
    for warning in loaded.warnings:
        log.warning("%s", warning)
    return loaded.options


def _settings_command(name: Command, body: Callable[[CommandLine], None], help: str) -> None:
    def callback(**values: Any) -> None:
        body(command_line(name, values))

    cli.add_command(click.Command(name, params=command_params(), callback=callback, help=help))


_settings_command(
    "start", _start, "Start the master and its workers (in the foreground, or --daemon)."
)
_settings_command(
    "config",
    _config,
    "Print the effective settings (defaults, config files, SOCKD_* variables, then flags) "
    "as JSON, checked as sockd start checks them; secrets are not shown.",
)
_settings_command(
    "dev",
    _dev,
    "Run one worker in the foreground (env local) and reload on every change of a .py or "
    ".toml file under the app directory.",
)
cli.add_command(control_commands.stop)
cli.add_command(control_commands.reload)
cli.add_command(control_commands.status)
cli.add_command(top.top)


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(f"sockd {__version__}")


def main(argv: list[str] | None = None) -> None:
    """Run the command line; turn every user error into one line."""
    try:
        cli.main(args=argv, prog_name="sockd", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.format_message(), err=True)
        raise SystemExit(2) from None
    except click.UsageError as exc:
        ctx = exc.ctx
        hint = f" (see: sockd {ctx.info_name} --help)" if ctx and ctx.parent else ""
        _fail(f"{exc.format_message()}{hint}", exc.exit_code)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("aborted", 1)
    except UserError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    print(f"sockd: error: {message}", file=sys.stderr)
    raise SystemExit(code)
