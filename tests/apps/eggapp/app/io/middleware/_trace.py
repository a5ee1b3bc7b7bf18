"""Where the test app's middleware and controllers note what ran, per socket id.

Kept per worker process; a second client from the same source address reaches
the same worker and reads it back through the ``trace`` event.
"""

from __future__ import annotations

from typing import Any

TRACE: dict[str, list[str]] = {}


def record(ctx: Any, label: str) -> None:
    TRACE.setdefault(ctx.socket.id, []).append(f"{ctx.event or 'connect'}:{label}")
