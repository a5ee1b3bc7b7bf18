"""The ``sockd`` command line.

Every mistake a user can make ends in one ``sockd: error: ...`` line and a
non-zero exit code, never a traceback. Flags win over config files, config
files over defaults: a flag left out is ``None`` here and does not override.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
import uvloop

from sockd import __version__
from sockd.app_target import AppTarget, resolve_target
from sockd.config.loader import ConfigError, load_settings
from sockd.config.schema import DEVELOPMENT_ENVS, Settings
from sockd.errors import UserError
from sockd.logs import LogLevel, configure_logging
from sockd.options import BindAddress, ClusterOptions, WorkerOptions

#: Environment variable naming the config environment, as Egg's EGG_SERVER_ENV.
ENV_VARIABLE = "SOCKD_ENV"
#: Environment variable with the session secret, so it need not sit in a file.
SECRET_VARIABLE = "SOCKD_SESSION_SECRET"
DEFAULT_ENV = "prod"

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


def _cluster_flags(
    app_spec: Annotated[
        str | None,
        typer.Argument(
            metavar="[APP_DIR | MODULE:ATTR]",
            help="An app directory (default: the current one) or a socketio.AsyncServer / "
            "ASGI app as MODULE:ATTR.",
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(
            help="Config environment: reads config/config.ENV.toml. "
            f"[env: {ENV_VARIABLE}; default: {DEFAULT_ENV}]"
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Worker processes. [default: 1]")
    ] = None,
    sticky: Annotated[
        bool | None,
        typer.Option(
            "--sticky/--no-sticky", help="Send every client to a fixed worker (by its IP)."
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on. [default: 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port to listen on. [default: 7001]")
    ] = None,
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
        float | None,
        typer.Option(min=0, help="Seconds workers get to drain at a stop. [default: 30]"),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=1, help="Kill a worker whose event loop is stuck this long. [default: 30]"
        ),
    ] = None,
    app_dir: Annotated[
        str | None, typer.Option(help="Directory to import MODULE:ATTR from. [default: .]")
    ] = None,
    log_level: Annotated[LogLevel | None, typer.Option(help="Log level. [default: info]")] = None,
    access_log: Annotated[
        bool | None, typer.Option("--access-log/--no-access-log", help="Log every HTTP request.")
    ] = None,
) -> None:
    """The flags ``start`` and ``config`` share; only its signature is used."""


def _with_cluster_flags(body: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
    """Give ``body`` the shared flags; it receives them as one dict."""

    @functools.wraps(_cluster_flags)
    def command(**flags: Any) -> None:
        body(flags)

    return command


def _settings_from(flags: dict[str, Any]) -> tuple[AppTarget, str, Settings]:
    target = resolve_target(flags.pop("app_spec"), flags.pop("app_dir"))
    env = flags.pop("env") or os.environ.get(ENV_VARIABLE) or DEFAULT_ENV
    redis = flags.pop("redis")
    if flags.get("log_level") is not None:
        flags["log_level"] = flags["log_level"].value
    overrides: dict[str, Any] = {"cluster": {k: v for k, v in flags.items() if v is not None}}
    if redis:
        overrides["io"] = {"redis": {"url": redis}}
    secret = os.environ.get(SECRET_VARIABLE)
    if secret:
        overrides["session"] = {"secret": secret}
    settings = load_settings(target.root, env, overrides)
    if not target.is_directory_app:
        _refuse_app_layout_settings(settings)
    elif settings.session.secret is None and env not in DEVELOPMENT_ENVS:
        raise ConfigError(
            f"[session] secret is not set for env {env!r}: set it in "
            f"config/config.{env}.toml or in ${SECRET_VARIABLE} "
            f"(only development envs {', '.join(DEVELOPMENT_ENVS)} may go without)"
        )
    return target, env, settings


def _refuse_app_layout_settings(settings: Settings) -> None:
    """A plain AsyncServer takes its options in code; say so rather than ignore the files."""
    defaults = Settings()
    for section in ("init", "namespace", "middleware"):
        if getattr(settings.io, section) != getattr(defaults.io, section):
            raise ConfigError(
                f"[io.{section}] applies to apps in the sockd app layout; "
                "a MODULE:ATTR app passes these options to socketio.AsyncServer itself"
            )


def _start(flags: dict[str, Any]) -> None:
    target, env, settings = _settings_from(flags)
    cluster = settings.cluster
    binds = tuple(BindAddress.parse(address) for address in cluster.bind) or (
        BindAddress.parse(f"{_bracket(cluster.host)}:{cluster.port}"),
    )
    options = ClusterOptions(
        worker=WorkerOptions(
            app=target.module_spec or "",
            app_dir=str(target.root),
            env=env,
            settings=settings.model_dump(mode="json"),
            redis_url=settings.io.redis.to_url() if settings.io.redis else None,
            log_level=cluster.log_level,
            access_log=cluster.access_log,
            graceful_timeout=cluster.graceful_timeout,
            require_websocket_only=cluster.workers > 1 and not cluster.sticky,
        ),
        workers=cluster.workers,
        sticky=cluster.sticky,
        binds=binds,
        heartbeat_timeout=cluster.timeout,
    )
    configure_logging(cluster.log_level, role="master")
    from sockd.supervisor.arbiter import Arbiter

    raise SystemExit(uvloop.run(Arbiter(options).run()))


def _config(flags: dict[str, Any]) -> None:
    target, env, settings = _settings_from(flags)
    shown = {
        "app": target.module_spec or str(target.root),
        "env": env,
        **settings.model_dump(mode="json"),
    }
    if settings.session.secret is not None:
        shown["session"]["secret"] = "(set, not shown)"
    typer.echo(json.dumps(shown, indent=2))


app.command("start", help="Start the master and its workers in the foreground.")(
    _with_cluster_flags(_start)
)
app.command(
    "config", help="Print the effective settings (defaults, config files, then flags) as JSON."
)(_with_cluster_flags(_config))


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
