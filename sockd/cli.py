"""The ``sockd`` command line.

Every mistake a user can make ends in one ``sockd: error: ...`` line and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
import uvloop

from sockd import __version__
from sockd.errors import UserError
from sockd.logs import LogLevel, configure_logging
from sockd.options import DEFAULT_HOST, DEFAULT_PORT, BindAddress, ClusterOptions, WorkerOptions

# Newer typer releases vendor click; its exceptions keep click's names and API.
_UsageError: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError"
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Run a python-socketio app on N worker processes behind one port, with sticky sessions.",
)


@app.callback()
def _root() -> None:
    """sockd: a sticky-session cluster supervisor for python-socketio apps."""


@app.command()
def start(
    app_spec: Annotated[
        str, typer.Argument(metavar="MODULE:ATTR", help="The socketio.AsyncServer or ASGI app.")
    ],
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes.")] = 1,
    sticky: Annotated[
        bool, typer.Option("--sticky", help="Send every client to a fixed worker (by its IP).")
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = DEFAULT_PORT,
    bind: Annotated[
        list[str] | None,
        typer.Option(help="HOST:PORT to listen on, repeatable ([::1]:7001 for IPv6)."),
    ] = None,
    redis: Annotated[
        str | None,
        typer.Option(
            help="Share rooms and broadcasts through Redis (redis://, rediss://, unix://)."
        ),
    ] = None,
    graceful_timeout: Annotated[
        float, typer.Option(min=0, help="Seconds workers get to drain at a stop.")
    ] = 30.0,
    timeout: Annotated[
        float, typer.Option(min=1, help="Kill a worker whose event loop is stuck this long.")
    ] = 30.0,
    app_dir: Annotated[str, typer.Option(help="Directory to import the app from.")] = ".",
    log_level: Annotated[LogLevel, typer.Option(help="Log level.")] = LogLevel.info,
    access_log: Annotated[bool, typer.Option(help="Log every HTTP request.")] = False,
) -> None:
    """Start the master and its workers in the foreground."""
    if bind:
        binds = tuple(BindAddress.parse(address) for address in bind)
    else:
        binds = (BindAddress.parse(f"{_bracket(host)}:{port}"),)
    options = ClusterOptions(
        worker=WorkerOptions(
            app=app_spec,
            app_dir=app_dir,
            redis_url=redis,
            log_level=log_level.value,
            access_log=access_log,
            graceful_timeout=graceful_timeout,
            require_websocket_only=workers > 1 and not sticky,
        ),
        workers=workers,
        sticky=sticky,
        binds=binds,
        heartbeat_timeout=timeout,
    )
    configure_logging(log_level.value, role="master")
    from sockd.supervisor.arbiter import Arbiter

    raise SystemExit(uvloop.run(Arbiter(options).run()))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"sockd {__version__}")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def main(argv: list[str] | None = None) -> None:
    """Run the command line; turn every user error into one line."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="sockd", standalone_mode=False)
    except _UsageError as exc:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see: sockd {ctx.info_name} --help)" if ctx and ctx.parent else ""
        _fail(f"{exc.format_message()}{hint}", exc.exit_code)  # type: ignore[attr-defined]
    except typer.Abort:
        _fail("aborted", 1)
    except UserError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    print(f"sockd: error: {message}", file=sys.stderr)
    raise SystemExit(code)
