"""Which systems and scenarios a run has, and the loop that interleaves them in time.

Every (scenario, system) measurement starts the system fresh in its own temp dir and stops
it by pid afterwards, so no scenario inherits another's sessions or memory. Within a round
each scenario runs on every system back to back, in an order rotated from round to round,
so drift on the machine (other jobs, thermal) hits every system alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

from bench.budget import Budget
from bench.procs import StartError
from bench.scenarios import echo, fanout, idle, lost, polling, rooms, storm
from bench.scenarios.base import Scenario
from bench.systems import Nginx, NodeCluster, Sockd, System, Uvicorn

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        idle.SCENARIO,
        storm.SCENARIO,
        polling.SCENARIO,
        echo.SCENARIO,
        fanout.SCENARIO,
        rooms.SCENARIO,
        lost.SCENARIO,
    )
}
#: Scenarios a run has unless ``--scenarios`` names others (``lost`` measures recovery).
DEFAULT_SCENARIOS = [name for name in SCENARIOS if name != lost.NAME]
#: Bound on one scenario's run, on top of its own bounds (a hung run must not hang the suite).
RUN_TIMEOUT = 240.0


def make_systems(
    workers: int, nginx: bool, node: bool, recovery: bool = False, baseline: Path | None = None
) -> list[System]:
    """The baselines and sockd, all with the same N (sockd-1 only for the master overhead);
    ``recovery``: sockd with connection state recovery on, too, over each bus; ``baseline``:
    sockd over IPC from that checkout too, measured right after this one's."""
    systems: list[System] = [Uvicorn(), Sockd(1, redis=False, only=frozenset({"storm"}))]
    if nginx:
        systems.append(Nginx(workers))
    if node:
        systems.append(NodeCluster(workers))
    systems.append(Sockd(workers, redis=False))
    if baseline is not None:
        systems.append(Sockd(workers, redis=False, tree=baseline))
    systems.append(Sockd(workers, redis=True))
    # Metrics on and scraped: the echo scenario, for their cost (issue 17's target).
    systems.append(Sockd(workers, redis=False, only=frozenset({"echo"}), metrics=True))
    if recovery:
        systems += [
            Sockd(workers, redis=False, recovery=True),
            Sockd(workers, redis=True, recovery=True),
        ]
    return systems


@dataclass
class Results:
    """Every number measured, by metric key then system name, in measurement order."""

    systems: list[str]
    scenarios: list[Scenario]
    values: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _run_async(coro: Awaitable[dict[str, float]]) -> dict[str, float]:
    """Run one measurement on uvloop, bounded; SIGINT or SIGTERM end it as Ctrl-C would.

    Signals go through the loop: a KeyboardInterrupt raised by a Python-level handler in
    the middle of a protocol callback would be swallowed by the transport.
    """

    async def bounded() -> dict[str, float]:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        interrupted = False

        def interrupt() -> None:
            nonlocal interrupted
            interrupted = True
            task.cancel()

        saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in saved:
            loop.add_signal_handler(sig, interrupt)
        try:
            async with asyncio.timeout(RUN_TIMEOUT):
                return await coro
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            for sig, handler in saved.items():
                loop.remove_signal_handler(sig)
                signal.signal(sig, handler)

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(bounded())


def _measure(
    system: System,
    scenario: Scenario,
    budget: Budget,
    where: str,
    results: Results,
    progress: Callable[[str], None],
) -> dict[str, float] | None:
    """One measurement on a fresh start; None (and an error recorded) if it failed.

    A system that fails to start is started once more (a free port can be taken by another
    process between the pick and the bind on a shared machine), and the retry is noted;
    a scenario that fails is an error, never retried.
    """
    for attempt in (1, 2):
        try:
            with (
                tempfile.TemporaryDirectory(prefix="sockd-bench-") as tmp,
                system.run(Path(tmp)) as running,
            ):
                return _run_async(scenario.run(running, budget))
        except StartError as exc:
            if attempt == 1:
                note = f"{where} start failed, retried: {str(exc).splitlines()[0]}"
                results.notes.append(note)
                progress(note)
                continue
            message = f"{where} FAILED: {type(exc).__name__}: {exc}"
        except Exception as exc:  # one failed measurement must not lose the others
            message = f"{where} FAILED: {type(exc).__name__}: {exc}"
        results.errors.append(message)
        progress(message)
        return None
    return None


def run(
    systems: Sequence[System],
    scenarios: Sequence[Scenario],
    budget: Budget,
    progress: Callable[[str], None],
) -> Results:
    """Measure every scenario on every system taking part, ``budget.rounds`` times."""
    results = Results([s.name for s in systems], list(scenarios))
    started = time.monotonic()
    for round_index in range(budget.rounds):
        this_round = dataclasses.replace(budget, address_base=round_index * 250 * 61)
        for scenario in scenarios:
            eligible = [s for s in systems if s.takes_part(scenario.name)]
            if not eligible:
                continue
            shift = round_index % len(eligible)
            for system in eligible[shift:] + eligible[:shift]:
                where = (
                    f"round {round_index + 1}/{budget.rounds} {scenario.name:<8} {system.name:<14}"
                )
                began = time.monotonic()
                metrics = _measure(system, scenario, this_round, where, results, progress)
                if metrics is None:
                    continue
                for key, value in metrics.items():
                    results.values[key][system.name].append(float(value))
                first = scenario.headline_metric()
                shown = first.fmt.format(metrics[first.key])
                took = time.monotonic() - began
                progress(f"{where} {first.label.split(': ', 1)[-1]} {shown} ({took:.1f}s)")
    results.seconds = time.monotonic() - started
    return results
