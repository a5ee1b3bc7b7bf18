"""Reading profiles into samples: (frames outermost first, weight)."""

from __future__ import annotations

import json
from pathlib import Path

Sample = tuple[list[str], float]


def read_pyspy_raw(path: Path) -> list[Sample]:
    """py-spy's ``--format raw``: one ``frame;frame;...;frame COUNT`` line per distinct stack."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), float(count)))
    return samples


def read_cpuprofile(path: Path) -> list[Sample]:
    """A V8 ``.cpuprofile`` (the inspector's Profiler.stop), each sample weighted by the time
    up to the next one, in microseconds."""
    profile = json.loads(path.read_text())
    nodes = {node["id"]: node for node in profile["nodes"]}
    parents = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    stacks: dict[int, list[str]] = {}

    def stack(node_id: int) -> list[str]:
        if node_id not in stacks:
            frame = nodes[node_id]["callFrame"]
            text = f"{frame['functionName'] or '(anonymous)'} ({frame['url']})"
            parent = parents.get(node_id)
            stacks[node_id] = ([] if parent is None else stack(parent)) + [text]
        return stacks[node_id]

    ids, deltas = profile["samples"], profile["timeDeltas"]
    weights = [*deltas[1:], 0] if deltas else []
    return [(stack(i), float(w)) for i, w in zip(ids, weights, strict=True) if w > 0]
