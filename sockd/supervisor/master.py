"""The master process, from the command line to its exit.

In order: detach (``--daemon``), set up logging, claim the title and the pid file (a
second sockd with either is refused), name the process, then run the arbiter with its
control socket. In a daemon every error also goes back to the waiting ``sockd start``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import setproctitle
import uvloop

from sockd.config.options import ClusterOptions
from sockd.control.runtime import Instance, prepare_runtime_dir
from sockd.errors import StartupError, UserError
from sockd.logs import configure_logging
from sockd.supervisor.lifecycle.arbiter import Arbiter
from sockd.supervisor.lifecycle.reload import OptionsLoader
from sockd.supervisor.system.daemonize import Readiness, daemonize
from sockd.supervisor.system.pidfile import PidFile, PidFileHeld


def run_master(options: ClusterOptions, load_options: OptionsLoader) -> int:
    """Run the master until it stops; its exit code."""
    readiness: Readiness | None = None
    if options.cluster.daemon and options.cluster.log_file:  # the settings require both
        readiness = daemonize(options.cluster.log_file)
    try:
        return _run(options, load_options, readiness)
    except UserError as exc:
        if readiness is not None:
            readiness.failed(exc)
        raise


def _run(options: ClusterOptions, load_options: OptionsLoader, readiness: Readiness | None) -> int:
    cluster = options.cluster
    configure_logging(cluster.log_level, "master", cluster.log_format, cluster.log_file)
    title = cluster.title or default_title(options)
    options = dataclasses.replace(options, title=title)
    instance = Instance(title, prepare_runtime_dir())
    instance.check_socket_path()
    with contextlib.ExitStack() as held:
        held.enter_context(_claim(instance.pid_path, _title_taken(title)))
        if cluster.pidfile:
            held.enter_context(_claim(Path(cluster.pidfile), _pidfile_taken(cluster.pidfile)))
        app = options.worker.app
        setproctitle.setproctitle(f"sockd: master [{title}] {app.module_spec or app.root}")
        arbiter = Arbiter(
            options,
            load_options,
            control_path=instance.socket_path,
            on_ready=readiness.ready if readiness is not None else None,
        )
        return uvloop.run(arbiter.run())


def default_title(options: ClusterOptions) -> str:
    """The title when none is set (the settings leave it None): ``sockd-PORT``.

    Taken from the configured binds for now; under socket activation the master should take
    it from the listeners it inherited (issue 20, the master's half).
    """
    return f"sockd-{options.cluster.binds[0].port}"


@contextlib.contextmanager
def _claim(path: Path, taken: str) -> Iterator[None]:
    """Hold the pid file at ``path`` (with our pid in it) for the block."""
    pidfile = PidFile(path)
    try:
        pidfile.acquire()
    except PidFileHeld as exc:
        raise StartupError(taken.format(pid=exc.pid or "unknown")) from None
    except OSError as exc:
        raise StartupError(f"cannot write the pid file {path}: {exc.strerror}") from None
    try:
        pidfile.write(os.getpid())
        yield
    finally:
        pidfile.release()


def _title_taken(title: str) -> str:
    return (
        f"a sockd titled {title!r} is already running (pid {{pid}}): stop it with "
        f"`sockd stop --title {title}`, or give this one another --title"
    )


def _pidfile_taken(path: str) -> str:
    return (
        f"the pid file {path} belongs to a running sockd (pid {{pid}}): stop it with "
        f"`sockd stop --pidfile {path}`, or use another --pidfile"
    )
