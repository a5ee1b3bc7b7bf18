"""Profile the app processes of one system while one scenario runs, and print where their CPU
went, per layer:

    python -m bench.profile --system sockd-2-ipc --scenario echo [--seconds 10] [--out DIR]

sockd's and uvicorn's workers are sampled by py-spy (``record --native -r RATE --format
raw``, one recorder per worker, started and stopped by pid around the scenario's measured
window); the Node cluster's workers by V8's CPU profiler over the same window (SIGUSR2 to
each worker, see bench/node/server.js). The raw profiles stay in ``--out`` (py-spy's raw
format opens in speedscope, and so do ``.cpuprofile`` files). The samples of every worker
are added up; bench/profile/layers.py decides which layer each belongs to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psutil
import uvloop

from bench import node_deps
from bench.budget import FULL
from bench.profile import layers
from bench.profile.samples import Sample, read_cpuprofile, read_pyspy_raw
from bench.scenarios import base
from bench.suite import SCENARIOS, make_systems
from bench.systems import NodeCluster, Running, System

PY_SPY = Path(sys.executable).with_name("py-spy")
#: Bound on one profiled scenario, its set-up included.
RUN_TIMEOUT = 300.0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--system", required=True, help="e.g. sockd-2-ipc, node-2")
    parser.add_argument("--scenario", required=True, choices=("echo", "fanout", "rooms"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, help="keep the raw profiles here")
    return parser.parse_args(argv)


class WriteMeter:
    """Write syscalls of the app processes over the window (``/proc/PID/io`` syscw), so
    the report can say how many each message cost (batching shows as fewer than one)."""

    def __init__(self) -> None:
        self.running: Running | None = None
        self.writes = 0
        self.seconds = 0.0

    def __call__(self, edge: base.Edge) -> None:
        assert self.running is not None
        count = sum(_write_count(w) for w in self.running.workers)
        if edge == "start":
            self.writes, self.seconds = -count, -time.monotonic()
        else:
            self.writes += count
            self.seconds += time.monotonic()


def _write_count(process: psutil.Process) -> int:
    with contextlib.suppress(psutil.Error):
        return int(process.io_counters().write_count)
    return 0


class PySpyWindow:
    """One py-spy recorder per worker, from the window's start to its end."""

    def __init__(self, out: Path, tag: str, rate: int) -> None:
        self.out, self.tag, self.rate = out, tag, rate
        self.running: Running | None = None
        self.recorders: list[subprocess.Popen[bytes]] = []
        self.files: list[Path] = []

    def __call__(self, edge: base.Edge) -> None:
        assert self.running is not None
        if edge == "start":
            for index, worker in enumerate(self.running.workers):
                path = self.out / f"{self.tag}-worker{index}.txt"
                command = [str(PY_SPY), "record", "--native", "-r", str(self.rate)]
                command += ["-p", str(worker.pid), "-o", str(path), "--format", "raw"]
                log = (self.out / f"{path.stem}.log").open("wb")
                self.recorders.append(subprocess.Popen(command, stdout=log, stderr=log))
                self.files.append(path)
            time.sleep(0.5)  # py-spy attaches before the load starts
        else:
            self.stop()

    def stop(self) -> None:
        """SIGINT makes py-spy write its file; each is waited for (bounded), then killed."""
        for recorder in self.recorders:
            with contextlib.suppress(ProcessLookupError):
                recorder.send_signal(signal.SIGINT)
        for recorder in self.recorders:
            try:
                recorder.wait(30)
            except subprocess.TimeoutExpired:
                recorder.kill()
                recorder.wait(5)

    def samples(self) -> list[Sample]:
        """Every worker's samples, once py-spy wrote them."""
        return [s for path in self.files if path.exists() for s in read_pyspy_raw(path)]


class NodeWindow:
    """SIGUSR2 to each Node worker at the window's start and end (its CPU profile)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.running: Running | None = None

    def __call__(self, edge: base.Edge) -> None:
        assert self.running is not None
        for worker in self.running.workers:
            os.kill(worker.pid, signal.SIGUSR2)
        if edge == "start":
            time.sleep(0.2)

    def samples(self) -> list[Sample]:
        """Every worker's profile, once each has written it (bounded wait)."""
        assert self.running is not None
        deadline = time.monotonic() + 20.0
        while len(list(self.out.glob("*.cpuprofile"))) < len(self.running.workers):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return [s for path in self.out.glob("*.cpuprofile") for s in read_cpuprofile(path)]


def _system(name: str, workers: int, out: Path) -> System:
    if name.startswith("node-"):
        return NodeCluster(workers, profile_dir=out)
    found = [s for s in make_systems(workers, nginx=False, node=False) if s.name == name]
    if not found:
        raise SystemExit(f"bench.profile: error: no system {name!r} (sockd-N-ipc, node-N, ...)")
    return found[0]


def _profile(args: argparse.Namespace, out: Path) -> tuple[list[Sample], bool]:
    """Run the scenario with the recorder and the write meter on its window; the samples."""
    node = args.system.startswith("node-")
    if node and (why := node_deps.ensure_packages()):
        raise SystemExit(f"bench.profile: error: {why}")
    if not node and not PY_SPY.exists():
        raise SystemExit(f"bench.profile: error: no {PY_SPY} (.venv/bin/pip install py-spy)")
    tag = f"{args.system}-{args.scenario}"
    recorder = NodeWindow(out) if node else PySpyWindow(out, tag, args.rate)
    seconds = args.seconds
    budget = dataclasses.replace(FULL, rounds=1, echo_seconds=seconds, rooms_seconds=seconds)
    budget = dataclasses.replace(budget, fanout_seconds=seconds)
    scenario = SCENARIOS[args.scenario]
    meter = WriteMeter()
    base.window_listeners += [meter, recorder]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="sockd-profile-") as tmp,
            _system(args.system, args.workers, out).run(Path(tmp)) as running,
        ):
            recorder.running = meter.running = running

            async def bounded() -> dict[str, float]:
                async with asyncio.timeout(RUN_TIMEOUT):
                    return await scenario.run(running, budget)

            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                metrics = runner.run(bounded())
            headline = scenario.headline_metric()
            rate = metrics[headline.key]
            print(f"{args.system} {args.scenario}: {headline.label} {headline.fmt.format(rate)}")
            if rate > 0 and meter.seconds > 0:
                per = meter.writes / (rate * meter.seconds)
                print(f"write syscalls per message (ack or delivery): {per:.2f}")
            samples = recorder.samples()
    finally:
        base.window_listeners.remove(recorder)
        base.window_listeners.remove(meter)
        if isinstance(recorder, PySpyWindow):
            recorder.stop()
    return samples, node


def _report(samples: list[Sample], node: bool) -> None:
    rules = layers.NODE_RULES if node else layers.PYTHON_RULES
    gc = layers.NODE_GC if node else layers.PYTHON_GC
    idle = layers.NODE_IDLE if node else layers.PYTHON_IDLE
    shares, busy = layers.shares(samples, rules, gc, idle)
    amount = f"{busy / 1000:,.0f} ms of CPU" if node else f"{busy:,.0f} samples"
    print(f"\nworkers' CPU in the window, idle left out: {amount}")
    print("\n| layer | % of worker CPU |\n|---|---:|")
    for layer, share in shares.items():
        print(f"| {layer} | {100 * share:.1f} |")
    if node:
        return
    busy_samples = [(f, w) for f, w in samples if layers.layer_of(f, rules, gc, idle) != "idle"]
    kinds: dict[str, float] = defaultdict(float)
    for frames, weight in busy_samples:
        kinds[layers.leaf_kind(frames)] += weight
    print("\n| innermost frame, across layers | % |\n|---|---:|")
    for kind, weight in sorted(kinds.items(), key=lambda item: -item[1]):
        print(f"| {kind} | {100 * weight / busy:.1f} |")
    print("\n| inclusive: samples under | % |\n|---|---:|")
    for label, pattern in INCLUSIVE:
        print(f"| {label} | {100 * layers.under(busy_samples, pattern) / busy:.1f} |")


#: Call sites whose whole cost (callees included) the next change would remove or shrink.
INCLUSIVE = (
    ("an event handler's task (python-socketio's _handle_event_internal)",
     r"^AsyncServer\._handle_event_internal \(socketio/"),
    ("creating that task (start_background_task)", r"^AsyncServer\.start_background_task "),
    ("asyncio.get_running_loop / get_event_loop (getpid on 3.11)", r"^getpid "),
    ("the ack path (socketio _send_packet)", r"^AsyncServer\._send_packet \(socketio/"),
    ("uvicorn's data_received (frame parsing, wake-ups)",
     r"^WebSocketsSansIOProtocol\.data_received"),
    ("a WebSocket text frame built and written (send_now)", r"send_now \("),
    ("json encode + decode", r"json/|_json\.c"),
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if shutil.which("redis-server") is None and args.system.endswith("-redis"):
        print("bench.profile: error: redis-server is not on PATH")
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="sockd-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    samples, node = _profile(args, out)
    if not samples:
        print(f"bench.profile: error: no samples (see the logs in {out})")
        return 1
    _report(samples, node)
    print(f"\nraw profiles in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
