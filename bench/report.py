"""The printed report: medians with min/max, sockd's ratio to each baseline, the targets."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from bench.scenarios.base import Metric
from bench.suite import Results
from bench.targets import Target

_LABEL, _SYSTEM, _NUM = 42, 14, 10


def _median(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else float("nan")


def _fmt(metric: Metric, value: float) -> str:
    return "-" if math.isnan(value) else metric.fmt.format(value)


def baselines(results: Results) -> list[str]:
    """The systems sockd is compared with, in column order (``--baseline``'s too)."""
    return [s for s in results.systems if not s.startswith("sockd") or s.endswith("@base")]


def table(results: Results) -> str:
    """One row per (metric, system) measured; ratio columns only on sockd rows."""
    bases = baselines(results)
    header = (
        f"{'metric':<{_LABEL}} {'better':<6} {'system':<{_SYSTEM}} {'median':>{_NUM}} "
        f"{'min':>{_NUM}} "
        f"{'max':>{_NUM}} {'n':>2}" + "".join(f" {'x ' + b:>{_NUM + 2}}" for b in bases)
    )
    lines = [header, "-" * len(header)]
    for scenario in results.scenarios:
        for metric in scenario.metrics:
            by_system = results.values.get(metric.key, {})
            label = metric.label
            better = {True: "higher", False: "lower", None: ""}[metric.higher_is_better]
            for system in results.systems:
                values = [v for v in by_system.get(system, []) if not math.isnan(v)]
                if not values:
                    continue
                median = statistics.median(values)
                row = (
                    f"{label:<{_LABEL}} {better:<6} {system:<{_SYSTEM}} "
                    f"{_fmt(metric, median):>{_NUM}} "
                    f"{_fmt(metric, min(values)):>{_NUM}} {_fmt(metric, max(values)):>{_NUM}} "
                    f"{len(values):>2}"
                )
                for base in bases:
                    row += f" {_ratio(metric, system, median, by_system.get(base, [])):>{_NUM + 2}}"
                lines.append(row.rstrip())
                label = better = ""
    return "\n".join(lines)


def _ratio(metric: Metric, system: str, median: float, base_values: list[float]) -> str:
    base = [v for v in base_values if not math.isnan(v)]
    if metric.higher_is_better is None or not system.startswith("sockd") or not base:
        return ""
    denominator = statistics.median(base)
    return f"{median / denominator:.2f}x" if denominator else ""


def target_lines(results: Results, targets: list[Target]) -> list[str]:
    """One line per target: PASS, FAIL, or n/a when a number is missing."""
    lines = []
    for target in targets:
        measured, passed = target.evaluate(results)
        status = "n/a " if passed is None else ("PASS" if passed else "FAIL")
        lines.append(f"{status}  {target.text:<78} measured {measured}")
    return lines


def to_json(results: Results, targets: list[Target], meta: dict[str, Any], path: Path) -> None:
    """Everything measured, for tools (and the smoke test) rather than eyes."""
    data = {
        "meta": meta,
        "systems": results.systems,
        "seconds": results.seconds,
        "values": {k: dict(v) for k, v in results.values.items()},
        "medians": {
            k: {s: _median(vs) for s, vs in v.items() if vs} for k, v in results.values.items()
        },
        "targets": [
            {"text": t.text, "measured": m, "passed": p}
            for t in targets
            for m, p in [t.evaluate(results)]
        ],
        "errors": results.errors,
        "notes": results.notes,
    }
    path.write_text(json.dumps(_finite(data), indent=2, allow_nan=False) + "\n")


def _finite(value: Any) -> Any:
    """NaN (a number that does not apply, such as uvicorn's front CPU) as null: strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
