"""sockd against what users run today: ``python -m bench [--quick]``.

Starts each system fresh for each scenario, interleaves them over repeated rounds, and
prints medians with min/max, sockd's ratio to each baseline, and the issues' targets.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import node_deps, report
from bench.budget import FULL, QUICK
from bench.suite import DEFAULT_SCENARIOS, SCENARIOS, make_systems, run
from bench.systems import nginx_available
from bench.targets import issue_targets


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (under a minute)")
    parser.add_argument("--rounds", type=int, help="repetitions of every measurement")
    parser.add_argument("--workers", type=int, default=2, help="N for nginx and sockd (2)")
    parser.add_argument("--scenarios", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--systems", help="comma-separated subset of the system names")
    parser.add_argument("--no-nginx", action="store_true", help="skip the nginx baseline")
    parser.add_argument("--no-node", action="store_true", help="skip the Node cluster baseline")
    parser.add_argument(
        "--recovery",
        action="store_true",
        help="also sockd-N-ipc-recovery and sockd-N-redis-recovery: connection state "
        "recovery on (a 120 s window)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also sockd-N-ipc@base, run from this checkout (e.g. a worktree of main), to "
        "compare a change with its base in one run",
    )
    parser.add_argument(
        "--no-deflate", action="store_true", help="clients do not offer permessage-deflate"
    )
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    return parser.parse_args(argv)


def _raise_fd_limit() -> None:
    """Thousands of sockets on both ends: lift the soft limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    return (done.stdout + done.stderr).strip().splitlines()[0] if done.stdout + done.stderr else "?"


def _meta(args: argparse.Namespace, budget: Any) -> dict[str, Any]:
    packages = ("python-socketio", "python-engineio", "uvicorn", "websockets", "uvloop", "redis")
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
        "python": platform.python_version(),
        "packages": {p: metadata.version(p) for p in packages},
        "nginx": _version(["nginx", "-v"]) if nginx_available() else "missing",
        "redis": _version(["redis-server", "--version"]),
        "node": _version(["node", "--version"]) if node_deps.node_binary() else "missing",
        "mode": "quick" if args.quick else "full",
        "workers": args.workers,
        "budget": dataclasses.asdict(budget),
    }


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM does what Ctrl-C does, so every started server is stopped by pid (during a
    measurement the suite's event loop handles both signals instead)."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the report; the exit code is 1 if any measurement failed."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("bench: interrupted (the servers it started were stopped)", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    args = _parse(argv)
    budget = QUICK if args.quick else FULL
    budget = dataclasses.replace(
        budget,
        rounds=args.rounds or budget.rounds,
        offer_deflate=not args.no_deflate,
    )
    if shutil.which("redis-server") is None:
        print("bench: error: redis-server is not on PATH (apt-get install -y redis-server)")
        return 2
    with_nginx = not args.no_nginx and nginx_available()
    notes = []
    if not args.no_nginx and not with_nginx:
        notes.append(
            "nginx is not installed: the nginx baseline is SKIPPED (apt-get install -y nginx)"
        )
    wanted = set(args.systems.split(",")) if args.systems else None
    with_node = not args.no_node and (wanted is None or f"node-{args.workers}" in wanted)
    if with_node and (why := node_deps.ensure_packages()):
        notes.append(f"the Node cluster baseline is SKIPPED: {why}")
        with_node = False
    systems = make_systems(args.workers, with_nginx, with_node, args.recovery, args.baseline)
    if wanted is not None:
        systems = [s for s in systems if s.name in wanted]
    names = args.scenarios.split(",") if args.scenarios else DEFAULT_SCENARIOS
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not systems:
        print(f"bench: error: unknown scenario {unknown} or no system selected")
        return 2
    _raise_fd_limit()
    meta = _meta(args, budget)
    print(f"sockd benchmark, {meta['mode']} run, N={args.workers}, {budget.rounds} round(s)")
    print(
        f"{meta['date']}  {meta['machine']}  python {meta['python']}  {meta['nginx']}"
        f"  node {meta['node']}"
    )
    print("  ".join(f"{k} {v}" for k, v in meta["packages"].items()))
    for note in notes:
        print(note)
    sys.stdout.flush()

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = run(systems, [SCENARIOS[n] for n in names], budget, progress)
    targets = issue_targets(args.workers)
    print()
    print(report.table(results))
    print()
    print("Targets (issues 8 and 16), from this run's numbers:")
    print("\n".join(report.target_lines(results, targets)))
    print()
    deflate = "offered (as browsers do)" if budget.offer_deflate else "not offered"
    print(
        f"{results.seconds:.0f}s. Every measurement on a freshly started system; "
        f"permessage-deflate {deflate}. Load generator CPU is in cores of this "
        f"{os.cpu_count()}-core machine, shared with the servers: numbers from a busy or "
        "small machine are provisional."
    )
    if args.quick:
        print("Quick run: loads are smaller than the targets assume; target lines are indicative.")
    for note in results.notes:
        print(f"NOTE {note}")
    for error in results.errors:
        print(f"ERROR {error}")
    if args.json:
        report.to_json(results, targets, meta, args.json)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
