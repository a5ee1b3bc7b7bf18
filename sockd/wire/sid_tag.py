"""The worker slot carried inside an Engine.IO session id, shared by master and worker.

In ``--sticky-key sid`` mode a worker appends ``.<slot>`` to every session id it
generates (after the app's own ``generate_id``, whatever that returns), so the
master can send every later request of the session to its owner by reading the
``sid=`` query parameter, whatever address the request comes from.
"""

from __future__ import annotations

SEPARATOR = "."


def tag(sid: str, slot: int) -> str:
    """``sid`` marked as owned by ``slot`` (idempotent)."""
    suffix = f"{SEPARATOR}{slot}"
    return sid if sid.endswith(suffix) else sid + suffix


def slot_of(sid: str) -> int | None:
    """The owner slot of a tagged ``sid``; ``None`` when it carries no tag."""
    _, separator, suffix = sid.rpartition(SEPARATOR)
    if not separator or not suffix.isascii() or not suffix.isdigit() or len(suffix) > 5:
        return None
    return int(suffix)
