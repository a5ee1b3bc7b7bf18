"""The master process, from the command line to its exit.

In order: note how this process was started (a SIGUSR2 starts the next master the same
way), detach (``--daemon``), set up logging, find the listeners (inherited from systemd or
from the master this one replaces, else bound), name the title after them unless one was
given, claim it (a second sockd with that title or pid file is refused; a new master
claims it only once the old one released it), name the process, then run the arbiter.
A daemon's errors also go back to the waiting ``sockd start``, a new master's to the old.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator

import setproctitle
import uvloop

from sockd.config.options import ClusterOptions
from sockd.control.runtime import Instance, prepare_runtime_dir
from sockd.errors import UserError
from sockd.logs import configure_logging
from sockd.supervisor.lifecycle.arbiter import Arbiter
from sockd.supervisor.lifecycle.reload import OptionsLoader
from sockd.supervisor.lifecycle.upgrade import MasterCommand
from sockd.supervisor.system.daemonize import Readiness, daemonize
from sockd.supervisor.system.handover import HandoverLink, Inheritance, take_inheritance
from sockd.supervisor.system.listeners import (
    Listeners,
    activated_listeners,
    adopt,
    bind_listeners,
)
from sockd.supervisor.system.redis_check import check_redis
from sockd.supervisor.system.title import TitleClaim, default_title


def run_master(options: ClusterOptions, load_options: OptionsLoader) -> int:
    """Run the master until it stops; its exit code."""
    inheritance = take_inheritance(os.environ)
    command = MasterCommand.of_this_process(dict(os.environ))
    link = HandoverLink.from_fd(inheritance.link) if inheritance is not None else None
    readiness: Readiness | None = None
    cluster = options.cluster
    try:
        # The settings require a log file with --daemon; a new master is detached already.
        if cluster.daemon and cluster.log_file and inheritance is None:
            readiness = daemonize(cluster.log_file)
        return _run(options, load_options, command, inheritance, link, readiness)
    except UserError as exc:
        if readiness is not None:
            readiness.failed(exc)
        if link is not None:
            link.send_now({"event": "failed", "error": str(exc)})
        raise
    finally:
        if link is not None:
            link.close()


def _run(
    options: ClusterOptions,
    load_options: OptionsLoader,
    command: MasterCommand,
    inheritance: Inheritance | None,
    link: HandoverLink | None,
    readiness: Readiness | None,
) -> int:
    cluster = options.cluster
    configure_logging(cluster.log_level, "master", cluster.log_format, cluster.log_file)
    if inheritance is None and options.worker.redis_url:
        check_redis(options.worker.redis_url)  # the first start only: workers never need it
    inherited = _inherited_listeners(inheritance)
    first = inherited.describe()[0] if inherited else str(cluster.binds[0])
    name = cluster.title or default_title(first)
    options = dataclasses.replace(options, title=name)
    instance = Instance(name, prepare_runtime_dir())
    instance.check_socket_path()
    title = TitleClaim(instance, cluster.pidfile)
    with _released(title):
        if inheritance is None:
            title.acquire()
        listeners = inherited or bind_listeners(cluster.binds)
        app = options.worker.app
        setproctitle.setproctitle(f"sockd: master [{name}] {app.module_spec or app.root}")
        arbiter = Arbiter(
            options,
            load_options,
            listeners,
            title,
            command,
            on_ready=readiness.ready if readiness is not None else None,
            predecessor=(link, inheritance.parent) if link and inheritance else None,
        )
        return uvloop.run(arbiter.run())


def _inherited_listeners(inheritance: Inheritance | None) -> Listeners | None:
    """The listeners of the master this one replaces, else systemd's, else None."""
    if inheritance is not None:
        sockets = adopt(inheritance.listeners, "the previous master")
        return Listeners(sockets, list(inheritance.owned_paths))
    activated = activated_listeners(dict(os.environ))
    return Listeners(activated) if activated else None


@contextlib.contextmanager
def _released(title: TitleClaim) -> Iterator[None]:
    """Whatever happens, the title is not left held."""
    try:
        yield
    finally:
        title.release()
