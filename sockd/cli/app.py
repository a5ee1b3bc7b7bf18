"""The ``sockd`` command line.

Every mistake a user can make ends in one ``sockd: error: ...`` line and a
non-zero exit code, never a traceback. Flags win over config files, config
files over defaults: a flag left out is ``None`` here and does not override.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from sockd import __version__
from sockd.cli import control_commands as commands
from sockd.config.app_target import AppTarget, resolve_target
from sockd.config.environment import environment_overrides
from sockd.config.loader import ConfigError, deep_merge, load_settings
from sockd.config.options import (
    BindAddress,
    ClusterOptions,
    RoutingOptions,
    StickyKey,
    WorkerOptions,
)
from sockd.config.schema import DEVELOPMENT_ENVS, ClusterSettings, Settings
from sockd.errors import UserError
from sockd.logs import LogFormat, LogLevel

#: Environment variable naming the config environment, as Egg's EGG_SERVER_ENV.
ENV_VARIABLE = "SOCKD_ENV"
#: Environment variable with the session secret, so it need not sit in a file.
SECRET_VARIABLE = "SOCKD_SESSION_SECRET"
DEFAULT_ENV = "prod"
#: ``sockd dev``'s config environment, as egg-bin dev's.
DEV_ENV = "local"

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
    connect_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Close a client that joins no namespace within this many seconds "
            "(Node's connectTimeout). [default: 45]",
        ),
    ] = None,
    per_message_deflate: Annotated[
        bool | None,
        typer.Option(
            "--per-message-deflate/--no-per-message-deflate",
            help="Compress WebSocket messages (costs memory per connection). [default: off]",
        ),
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
    log_format: Annotated[
        LogFormat | None, typer.Option(help="Log lines as text or JSON. [default: text]")
    ] = None,
    log_file: Annotated[
        str | None,
        typer.Option(help="Append logs to this file instead of stderr; SIGUSR1 reopens it."),
    ] = None,
    daemon: Annotated[
        bool | None,
        typer.Option(
            "--daemon/--no-daemon",
            help="Run in the background (needs --log-file); returns once the workers are ready.",
        ),
    ] = None,
    pidfile: Annotated[
        str | None, typer.Option(help="Write the master's pid here (locked while it runs).")
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(help="Name of this sockd for stop, reload and status. [default: sockd-PORT]"),
    ] = None,
    max_memory: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="MB",
            help="Restart a worker gracefully once its RSS passes this many MB.",
        ),
    ] = None,
    max_age: Annotated[
        float | None,
        typer.Option(
            min=1,
            metavar="S",
            help="Restart a worker gracefully after this many seconds (+ up to 10%).",
        ),
    ] = None,
    sticky_key: Annotated[
        StickyKey | None,
        typer.Option(
            help="What makes a client sticky: its IP, the PROXY protocol header or the "
            "X-Forwarded-For of a trusted proxy, or its Engine.IO session id (implies "
            "--sticky). [default: ip]"
        ),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CIDR",
            help="Peers whose PROXY or X-Forwarded-For headers are believed, repeatable.",
        ),
    ] = None,
    peek_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds the master waits for a PROXY header or request head. [default: 5]"
        ),
    ] = None,
    certfile: Annotated[
        str | None, typer.Option(help="TLS certificate (PEM); the workers do the handshake.")
    ] = None,
    keyfile: Annotated[str | None, typer.Option(help="TLS private key (PEM).")] = None,
    ca_certs: Annotated[
        str | None, typer.Option(help="CA bundle: require client certificates signed by it.")
    ] = None,
) -> None:
    """The flags ``start``, ``dev`` and ``config`` share; only its signature is used."""


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
    given: dict[str, Any] = {"cluster": {k: v for k, v in flags.items() if v is not None}}
    if redis:
        given["io"] = {"redis": {"url": redis}}
    # Files < environment variables < flags.
    overrides = deep_merge(environment_overrides(dict(os.environ)), given)
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


def _cluster_options(flags: dict[str, Any]) -> ClusterOptions:
    """Everything the master needs; the flags are kept so a reload can read the files anew."""
    given = dict(flags)
    target, env, settings = _settings_from(flags)
    cluster = settings.cluster
    _check_routing(cluster)
    # Any key but the plain IP means the user asked for stickiness.
    sticky = cluster.sticky or cluster.sticky_key != "ip"
    binds = tuple(BindAddress.parse(address) for address in cluster.bind) or (
        BindAddress.parse(f"{_bracket(cluster.host)}:{cluster.port}"),
    )
    return ClusterOptions(
        worker=WorkerOptions(
            app=target.module_spec or "",
            app_dir=str(target.root),
            env=env,
            settings=settings.model_dump(mode="json"),
            redis_url=settings.io.redis.to_url() if settings.io.redis else None,
            log_level=cluster.log_level,
            log_format=cluster.log_format,
            log_file=_absolute(cluster.log_file),
            access_log=cluster.access_log,
            graceful_timeout=cluster.graceful_timeout,
            connect_timeout=cluster.connect_timeout,
            per_message_deflate=cluster.per_message_deflate,
            require_websocket_only=cluster.workers > 1 and not sticky,
            sid_routing=cluster.sticky_key == "sid",
            certfile=_absolute(cluster.certfile),
            keyfile=_absolute(cluster.keyfile),
            ca_certs=_absolute(cluster.ca_certs),
        ),
        workers=cluster.workers,
        sticky=sticky,
        binds=binds,
        routing=RoutingOptions(
            sticky_key=cluster.sticky_key,
            trusted_proxies=cluster.trusted_proxy,
            peek_timeout=cluster.peek_timeout,
        ),
        heartbeat_timeout=cluster.timeout,
        title=cluster.title or f"sockd-{binds[0].port}",
        daemon=cluster.daemon,
        pidfile=_absolute(cluster.pidfile),
        max_memory=cluster.max_memory,
        max_age=cluster.max_age,
        flags=given,
    )


def _check_routing(cluster: ClusterSettings) -> None:
    """Refuse combinations that cannot work, naming the fix."""
    key = cluster.sticky_key
    if key in ("proxy-protocol", "forwarded") and not cluster.trusted_proxy:
        raise ConfigError(
            f"--sticky-key {key} needs --trusted-proxy CIDR (the proxies whose headers count)"
        )
    if cluster.certfile and key in ("forwarded", "sid"):
        raise ConfigError(
            f"--sticky-key {key} reads the HTTP request, which TLS hides from the master: end "
            "TLS at the proxy (and drop --certfile), or use --sticky-key ip or proxy-protocol"
        )
    if bool(cluster.certfile) != bool(cluster.keyfile) and not _pem_has_key(cluster.certfile):
        raise ConfigError("--certfile and --keyfile go together")
    if cluster.ca_certs and not cluster.certfile:
        raise ConfigError("--ca-certs needs --certfile and --keyfile")
    for path in (cluster.certfile, cluster.keyfile, cluster.ca_certs):
        if path and not os.path.isfile(path):
            raise ConfigError(f"no such file: {path}")


def _pem_has_key(certfile: str | None) -> bool:
    """A certificate file may hold its private key too (then --keyfile is optional)."""
    try:
        return bool(certfile) and b"PRIVATE KEY-----" in Path(str(certfile)).read_bytes()
    except OSError:
        return False


def _reload_options(flags: dict[str, Any], workers: int | None) -> ClusterOptions:
    """What a reload serves with: the config files read anew under the start flags."""
    return _cluster_options(flags if workers is None else {**flags, "workers": workers})


def _absolute(path: str | None) -> str | None:
    """Paths are taken from where sockd was started (a daemon keeps that directory too)."""
    return os.path.abspath(path) if path else None


def _start(flags: dict[str, Any]) -> None:
    from sockd.supervisor.master import run_master  # the master's modules, only when needed

    raise SystemExit(run_master(_cluster_options(flags), _reload_options))


def _dev(flags: dict[str, Any]) -> None:
    if flags["daemon"]:
        raise UserError(
            "sockd dev runs in the foreground; sockd start --daemon runs in the background"
        )
    flags["env"] = flags["env"] or os.environ.get(ENV_VARIABLE) or DEV_ENV
    flags["workers"] = flags["workers"] or 1
    from sockd.supervisor.master import run_master

    # In the foreground whatever the config files say (a reload keeps both fixed).
    options = dataclasses.replace(_cluster_options(flags), watch=True, daemon=False)
    raise SystemExit(run_master(options, _reload_options))


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


app.command("start", help="Start the master and its workers (in the foreground, or --daemon).")(
    _with_cluster_flags(_start)
)
app.command(
    "config", help="Print the effective settings (defaults, config files, then flags) as JSON."
)(_with_cluster_flags(_config))
app.command(
    "dev",
    help=f"Run one worker in the foreground (env {DEV_ENV}) and reload on every change of a "
    ".py or .toml file under the app directory.",
)(_with_cluster_flags(_dev))
app.command("stop")(commands.stop)
app.command("reload")(commands.reload)
app.command("status")(commands.status)


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
