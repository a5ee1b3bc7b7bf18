"""The issue's targets, each checked against numbers measured in the same run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.suite import Results


@dataclass(frozen=True)
class Target:
    """``system``'s ``metric`` against ``threshold``: a ratio to ``baseline``, or absolute.

    ``aggregate`` is how repeated runs combine: the median, or the worst (max) run, for
    counts such as lost deliveries where one bad run is a miss.
    """

    text: str
    metric: str
    system: str
    threshold: float
    at_least: bool
    baseline: str | None = None
    aggregate: str = "median"

    def evaluate(self, results: Results) -> tuple[str, bool | None]:
        """(what was measured, passed); passed is None when a number is missing."""
        mine = results.values.get(self.metric, {}).get(self.system)
        if not mine:
            return "not measured", None
        value = max(mine) if self.aggregate == "max" else statistics.median(mine)
        if self.baseline is not None:
            theirs = results.values.get(self.metric, {}).get(self.baseline)
            if not theirs or statistics.median(theirs) == 0:
                return f"{self.baseline} not measured", None
            value /= statistics.median(theirs)
            shown = f"{value:.2f}x"
        else:
            shown = f"{value:,.1f}"
        passed = value >= self.threshold if self.at_least else value <= self.threshold
        return shown, passed


def issue_targets(workers: int) -> list[Target]:
    """Issue 8's targets (against nginx and uvicorn), issue 16's (against Node's cluster,
    and 24 KiB per idle session, which replaces issue 8's 30) and issue 17's (metrics cost
    at most 3% of echo acks/s) for this run's N."""
    n = workers
    targets = [
        Target("master overhead: sockd-1 handshakes/s >= 0.95 x uvicorn", "storm_per_s",
               "sockd-1", 0.95, True, "uvicorn"),
    ]  # fmt: skip
    for bus in ("ipc", "redis"):
        sockd = f"sockd-{n}-{bus}"
        targets += [
            Target(f"echo acks/s: {sockd} >= 1.5 x nginx-{n}", "echo_per_s",
                   sockd, 1.5, True, f"nginx-{n}"),
            Target(f"fan-out deliveries/s: {sockd} >= 2 x nginx-{n}", "fanout_max_per_s",
                   sockd, 2.0, True, f"nginx-{n}"),
            Target(f"echo acks/s: {sockd} >= 1.0 x node-{n}", "echo_per_s",
                   sockd, 1.0, True, f"node-{n}"),
            Target(f"echo ack latency p99: {sockd} <= 1.0 x node-{n}", "echo_p99_ms",
                   sockd, 1.0, False, f"node-{n}"),
            Target(f"fan-out deliveries/s: {sockd} >= 1.3 x node-{n}", "fanout_max_per_s",
                   sockd, 1.3, True, f"node-{n}"),
            Target(f"memory per idle connection: {sockd} <= 24 KiB", "idle_kib",
                   sockd, 24.0, False),
            Target(f"fan-out at 20,000 deliveries/s offered: {sockd} loses none (worst run)",
                   "fanout_lost", sockd, 0.0, False, aggregate="max"),
            Target(f"fan-out at 20,000 deliveries/s offered: {sockd} p99 < 100 ms",
                   "fanout_p99_ms", sockd, 100.0, False),
        ]  # fmt: skip
    metrics = f"sockd-{n}-ipc-metrics"
    targets.append(
        Target(f"cost of metrics: {metrics} echo acks/s >= 0.97 x sockd-{n}-ipc", "echo_per_s",
               metrics, 0.97, True, f"sockd-{n}-ipc")
    )  # fmt: skip
    return targets
