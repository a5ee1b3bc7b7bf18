"""What a scenario declares about the numbers it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

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


Edge = Literal["start", "end"]
#: Called with "start" and "end" around a scenario's main measured window (echo's acks,
#: fan-out's capacity phase, the rooms' broadcasts), so a profiler (``bench.profile``)
#: samples that window and not the connects and joins before it.
window_listeners: list[Callable[[Edge], None]] = []


def measured_window(edge: Edge) -> None:
    """Tell the listeners that the main measured window starts or ends."""
    for listener in window_listeners:
        listener(edge)
