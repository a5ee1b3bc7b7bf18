"""The cluster section of ``sockd status``: sockets and rooms per namespace, cluster-wide.

One worker gathers it for the master, from every worker (every host, with ``--redis``)
within a second; workers that did not answer in time are named, not left out silently.
"""

from __future__ import annotations

from typing import Any


def render_cluster(cluster: dict[str, Any]) -> list[str]:
    if cluster.get("error"):
        return [f"cluster: not known: {cluster['error']}"]
    lines = [f"cluster: {cluster.get('members', 0)} worker(s) asked"]
    rows = [("NAMESPACE", "SOCKETS", "ROOMS", "LARGEST ROOMS")]
    for namespace in cluster.get("namespaces", []):
        rooms = str(namespace["rooms"]) + ("" if namespace.get("rooms_exact", True) else "+")
        largest = ", ".join(f"{name} ({size})" for name, size in namespace["largest_rooms"])
        rows.append((namespace["name"], str(namespace["sockets"]), rooms, largest or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    if cluster.get("more_namespaces"):
        lines.append(f"... and {cluster['more_namespaces']} more namespace(s)")
    lines += [f"not answered: {missing}" for missing in cluster.get("missing", [])]
    return lines
