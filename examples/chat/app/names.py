"""The chat's rules for names and rooms, shared by the login route and the socket side."""

from __future__ import annotations

from typing import Any

MAX_NAME_LENGTH = 32
MAX_ROOM_LENGTH = 32


def check_name(raw: Any) -> str:
    """The name to show for ``raw`` (runs of spaces made one); ValueError saying what is wrong."""
    return _check(raw, "name", MAX_NAME_LENGTH)


def check_room(raw: Any) -> str:
    return _check(raw, "room", MAX_ROOM_LENGTH)


def _check(raw: Any, what: str, limit: int) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError(f"a {what} is required")
    text = " ".join(raw.split())
    if not text:
        raise ValueError(f"a {what} cannot be only spaces")
    if len(text) > limit:
        raise ValueError(f"a {what} is at most {limit} characters (this one has {len(text)})")
    return text
