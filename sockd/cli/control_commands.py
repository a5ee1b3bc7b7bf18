"""``sockd stop``, ``sockd reload`` and ``sockd status``: talk to a running master.

They find it by ``--title``, by ``--pidfile``, or as the only sockd running
(``sockd/control/runtime.py``), and speak over its control socket: no ``ps | grep``.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import click
import psutil

from sockd.cli.cluster_status import render_cluster
from sockd.control.client import request
from sockd.control.runtime import locate
from sockd.errors import UserError

#: Status and stop are answered at once; a reload answers when its roll is done.
ANSWER_TIMEOUT = 10.0
#: After the drain, how long the master may take to kill stragglers, reap and exit.
EXIT_MARGIN = 10.0

_title = click.option("--title", help="The --title it was started with. [default: the only one]")
_pidfile = click.option("--pidfile", help="The --pidfile it was started with.")


@click.command()
@_title
@_pidfile
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Seconds the workers get to drain, then they are killed. "
    "[default: its --graceful-timeout]",
)
def stop(title: str | None, pidfile: str | None, timeout: float | None) -> None:
    """Stop a running sockd gracefully; return once the master and every worker are gone."""
    found, pid = locate(title, pidfile)
    processes = _process_tree(pid)
    reply = request(found.socket_path, {"command": "stop", "timeout": timeout}, ANSWER_TIMEOUT)
    bound = float(reply["graceful_timeout"]) + EXIT_MARGIN
    if not _wait_gone(processes, bound):
        raise UserError(f"sockd {found.title!r} (pid {pid}) still runs {bound:.0f}s after the stop")
    click.echo(f"sockd {found.title!r} stopped (pid {pid})")


@click.command()
@_title
@_pidfile
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(1, 1024),
    help="Serve with this many workers from now on.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Seconds to wait for the roll to finish.",
)
def reload(title: str | None, pidfile: str | None, workers: int | None, timeout: float) -> None:
    """Rolling restart (as SIGHUP): new code and config, one worker at a time."""
    found, _ = locate(title, pidfile)
    reply = request(found.socket_path, {"command": "reload", "workers": workers}, timeout)
    click.echo(
        f"sockd {found.title!r} reloaded: {reply['workers']} worker(s), "
        f"generation {reply['generation']}"
    )


@click.command()
@_title
@_pidfile
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(title: str | None, pidfile: str | None, as_json: bool) -> None:
    """Show the master and every worker (state, uptime, load, memory, share of clients),
    and the cluster's sockets and rooms per namespace."""
    found, _ = locate(title, pidfile)
    reply = request(found.socket_path, {"command": "status"}, ANSWER_TIMEOUT)
    shown = reply["status"]
    click.echo(json.dumps(shown, indent=2) if as_json else render_status(shown))


def render_status(status: dict[str, Any]) -> str:
    """The human-readable status: a summary line, then one row per worker."""
    master = status["master"]
    lines = [
        f"{status['title']}: master pid {master['pid']}, up {_duration(master['uptime'])}, "
        f"{master['workers']} worker(s) on {', '.join(master['binds'])}"
        f"{' (sticky)' if master['sticky'] else ''}, generation {master['generation']}"
        f"{', reloading' if master['reloading'] else ''}, {master['accepted']} accepted, "
        f"RSS {_megabytes(master['rss'])}",
    ]
    header = (
        "SLOT",
        "PID",
        "STATE",
        "UPTIME",
        "RESTARTS",
        "CONNS",
        "SESSIONS",
        "RSS",
        "CPU%",
        "NEW",
        "SHARE",
        "BUS",
        "QUEUED",
        "DROPPED",
    )
    rows = [header]
    for worker in status["workers"]:
        share = worker.get("share")
        rows.append(
            (
                str(worker["slot"]),
                _shown(worker.get("pid")),
                worker["state"] + ("" if worker["serving"] or worker["state"] != "ready" else "*"),
                _duration(worker["uptime"]) if "uptime" in worker else "-",
                _shown(worker.get("restarts")),
                _shown(worker.get("connections")),
                _shown(worker.get("sessions")),
                _megabytes(worker["rss"]) if worker.get("rss") else "-",
                f"{worker['cpu_percent']:.1f}" if "cpu_percent" in worker else "-",
                _shown(worker.get("new_connections")),
                f"{share:.1%}" if share is not None else "-",
                *_bus_cells(worker.get("bus")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if any(row[2].endswith("*") for row in rows[1:]):
        lines.append("* ready, handing its slot over: drains in a moment")
    if "cluster" in status:
        lines += render_cluster(status["cluster"])
    return "\n".join(lines)


def _process_tree(pid: int) -> list[psutil.Process]:
    try:
        master = psutil.Process(pid)
        return [master, *master.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _wait_gone(processes: list[psutil.Process], bound: float) -> bool:
    """Wait until every process (and any child the master starts meanwhile) is gone."""
    deadline = time.monotonic() + bound
    master = processes[0] if processes else None
    while True:
        if master is not None and _alive(master):
            known = {p.pid for p in processes}
            with contextlib.suppress(psutil.NoSuchProcess):
                processes += [c for c in master.children(recursive=True) if c.pid not in known]
        if not any(_alive(p) for p in processes):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (a zombie serves nothing; its parent reaps it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _bus_cells(bus: dict[str, Any] | None) -> tuple[str, str, str]:
    """BUS (connected, or degraded and for how long), QUEUED, DROPPED."""
    if not bus:
        return "-", "-", "-"
    state = str(bus.get("state", "-"))
    since = bus.get("degraded_since")
    if since is not None:
        state += f" {_duration(max(0.0, time.time() - since))}"
    return state, _shown(bus.get("queued")), _shown(bus.get("dropped"))


def _shown(value: object) -> str:
    return "-" if value is None else str(value)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}M"
