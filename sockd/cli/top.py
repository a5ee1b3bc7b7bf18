"""``sockd top``: the cluster live in a terminal, refreshed every ``--interval`` seconds.

Each refresh is one ``status`` request over the control socket (what ``sockd status``
shows); rates (events/s, connections accepted/s) are the differences between two
refreshes. The cluster line is on top, then one row per worker. q or Ctrl-C quits, and
curses gives the terminal back as it was, also when the master goes away meanwhile.
"""

from __future__ import annotations

import contextlib
import curses
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from sockd.cli.control_commands import ANSWER_TIMEOUT
from sockd.cli.control_commands import _duration as duration
from sockd.cli.control_commands import _megabytes as megabytes
from sockd.cli.control_commands import _shown as shown
from sockd.control.client import request
from sockd.control.runtime import locate
from sockd.errors import UserError

Status = dict[str, Any]
HEADER = ("SLOT", "PID", "STATE", "CONNS", "SESSIONS", "EVENTS/S", "CPU%", "RSS", "SHARE", "BUS")
_QUIT = {ord("q"), ord("Q")}


class Rates:
    """Per-second rates from successive totals, by key (a worker's pid, the master)."""

    def __init__(self) -> None:
        self._last: dict[Any, tuple[float, float]] = {}

    def rate(self, key: Any, total: float | None, now: float) -> float | None:
        if total is None:
            return None
        previous = self._last.get(key)
        self._last[key] = (now, total)
        if previous is None or now <= previous[0] or total < previous[1]:
            return None
        return (total - previous[1]) / (now - previous[0])


def frame(status: Status, rates: Rates, now: float) -> list[str]:
    """The lines of one refresh: the cluster line, a blank line, the worker table."""
    master, workers = status["master"], status["workers"]
    rows: list[tuple[str, ...]] = [HEADER]
    events_rate = 0.0
    for worker in workers:
        events = rates.rate(worker.get("pid"), worker.get("events"), now)
        events_rate += events or 0.0
        rows.append(_row(worker, events))
    accepted = rates.rate("master", master["accepted"], now)
    ready = sum(1 for w in workers if w["state"] == "ready" and w.get("serving"))
    connections = sum(w.get("connections") or 0 for w in workers)
    cpu = sum(w.get("cpu_percent") or 0.0 for w in workers)
    rss = sum(w.get("rss") or 0 for w in workers)
    summary = (
        f"{status['title']}  master {master['pid']}, up {duration(master['uptime'])}  "
        f"{ready}/{master['workers']} ready  {connections} conns  {events_rate:.0f} events/s  "
        f"{_rate(accepted)} accepted/s  CPU {cpu:.1f}%  RSS {megabytes(rss)}"
        f"{'  reloading' if master['reloading'] else ''}"
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    table = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return [summary, "", *table, "", "q or Ctrl-C to quit"]


def _row(worker: dict[str, Any], events: float | None) -> tuple[str, ...]:
    share, bus = worker.get("share"), worker.get("bus")
    return (
        str(worker["slot"]),
        shown(worker.get("pid")),
        worker["state"] + ("" if worker.get("serving") or worker["state"] != "ready" else "*"),
        shown(worker.get("connections")),
        shown(worker.get("sessions")),
        _rate(events),
        f"{worker['cpu_percent']:.1f}" if "cpu_percent" in worker else "-",
        megabytes(worker["rss"]) if worker.get("rss") else "-",
        f"{share:.1%}" if share is not None else "-",
        str(bus.get("state", "-")) if isinstance(bus, dict) else "-",
    )


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def run(fetch: Callable[[], Status], interval: float) -> None:
    """Refresh until q or Ctrl-C; a UserError (the master went away) after the terminal
    is restored."""
    with contextlib.suppress(KeyboardInterrupt):
        curses.wrapper(_loop, fetch, interval)


def _loop(screen: Any, fetch: Callable[[], Status], interval: float) -> None:
    curses.curs_set(0)
    screen.timeout(int(interval * 1000))
    rates = Rates()
    while True:
        lines = frame(fetch(), rates, time.monotonic())
        screen.erase()
        height, width = screen.getmaxyx()
        for y, line in enumerate(lines[: height - 1]):
            screen.addnstr(y, 0, line, width - 1)
        screen.refresh()
        if screen.getch() in _QUIT:
            return


@click.command()
@click.option("--title", help="The --title it was started with. [default: the only one]")
@click.option("--pidfile", help="The --pidfile it was started with.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2, max=60),
    default=1.0,
    show_default=True,
    help="Seconds between refreshes.",
)
def top(title: str | None, pidfile: str | None, interval: float) -> None:
    """Watch the cluster live: per worker connections, events/s, CPU, RSS, share of new
    connections; q or Ctrl-C quits."""
    found, _ = locate(title, pidfile)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("sockd top needs a terminal; sockd status prints the same once")

    def fetch() -> Status:
        status: Status = request(found.socket_path, {"command": "status"}, ANSWER_TIMEOUT)["status"]
        return status

    fetch()  # not running, or not ours: one line before the screen is taken
    run(fetch, interval)
