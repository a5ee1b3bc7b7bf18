"""What a reload can change: every setting declared ``reloadable`` (the registry says which)."""

from __future__ import annotations

import dataclasses

from sockd.config.options import ClusterOptions
from sockd.config.registry import REGISTRY, value_of, with_values

#: The settings a running master cannot change: a reload keeps them and says so.
FIXED = tuple(declared for declared in REGISTRY if not declared.reloadable)


def merge_reloaded(
    current: ClusterOptions, new: ClusterOptions
) -> tuple[ClusterOptions, list[str]]:
    """``new`` with the fixed settings of ``current``, and the labels of those that differed."""
    kept = {declared.name: value_of(current.settings, declared) for declared in FIXED}
    changed = [
        declared.label
        for declared in FIXED
        if value_of(new.settings, declared) != kept[declared.name]
    ]
    settings = with_values(new.settings, kept)
    worker = dataclasses.replace(new.worker, settings=settings)
    # What the master decided while running stays too: dev's watching, a derived title.
    return dataclasses.replace(
        new, worker=worker, watch=current.watch, title=current.title
    ), changed
