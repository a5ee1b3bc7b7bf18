"""``sockd status``'s cluster section: the members' censuses added up, bounded.

Each member names its sockets per namespace and its rooms with their sizes (its largest,
at most a thousand); a room spanning workers counts once, with the sum of its members.
The summary names the ``LARGEST`` rooms per namespace and at most ``MAX_NAMESPACES``
namespaces, so the status answer stays small whatever the cluster holds.
"""

from __future__ import annotations

from typing import Any

from sockd.worker.cluster.pending import Collected

LARGEST = 5
MAX_NAMESPACES = 50


def summary(collected: Collected) -> dict[str, Any]:
    sockets: dict[str, int] = {}
    rooms: dict[str, dict[str, int]] = {}
    exact: dict[str, bool] = {}
    for _member, census in collected.values:
        if not isinstance(census, dict):
            continue
        for namespace, figures in census.items():
            sockets[namespace] = sockets.get(namespace, 0) + int(figures.get("sockets", 0))
            merged = rooms.setdefault(namespace, {})
            for name, size in figures.get("rooms", []):
                merged[name] = merged.get(name, 0) + int(size)
            exact[namespace] = exact.get(namespace, True) and bool(figures.get("all_rooms"))
    namespaces = [
        {
            "name": namespace,
            "sockets": sockets[namespace],
            "rooms": len(rooms[namespace]),
            "rooms_exact": exact[namespace],
            "largest_rooms": sorted(rooms[namespace].items(), key=lambda item: -item[1])[:LARGEST],
        }
        for namespace in sorted(sockets)[:MAX_NAMESPACES]
    ]
    return {
        "namespaces": namespaces,
        "more_namespaces": max(0, len(sockets) - MAX_NAMESPACES),
        "members": len(collected.asked),
        "missing": [str(missing) for missing in collected.missing]
        + [str(failure) for failure in collected.failures],
    }
