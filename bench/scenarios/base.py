"""What a scenario declares about the numbers it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.budget import Budget
from bench.systems import Running


@dataclass(frozen=True)
class Metric:
    """One reported number: its key in the results, label, and which way is better."""

    key: str
    label: str
    #: True/False: a ratio against each baseline is printed; None: informational only.
    higher_is_better: bool | None
    fmt: str = "{:,.0f}"


@dataclass(frozen=True)
class Scenario:
    """A named load and the metrics its ``run`` returns (all keys of ``metrics``)."""

    name: str
    metrics: tuple[Metric, ...]
    run: Callable[[Running, Budget], Awaitable[dict[str, float]]]
    #: The metric shown in the progress line (default: the first).
    headline: str = ""

    def headline_metric(self) -> Metric:
        """The metric the progress line shows."""
        return next((m for m in self.metrics if m.key == self.headline), self.metrics[0])


def loadgen_metric(scenario: str) -> Metric:
    """The generator's own CPU during a scenario: near 1.0 core means it was saturated."""
    return Metric(f"{scenario}_loadgen_cpu", f"{scenario}: load gen CPU (cores)", None, "{:.2f}")
