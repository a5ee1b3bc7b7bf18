"""Whether an app's own server class changes a method a hot path goes around.

A ``MODULE:ATTR`` app may bring a subclass of python-socketio's or python-engineio's server;
sockd's mixins are composed in front of it, and its overrides run behind them (README, the
compat layer). A hot path that skips the library's layers would skip such an override too,
so it takes the library's path for a class whose app part defines a method it goes around.
"""

from __future__ import annotations

import functools
from typing import Any

#: Modules whose classes are sockd's or the libraries' own, not an app's.
_NOT_THE_APP = ("sockd.", "socketio.", "engineio.", "builtins")


def app_overrides(cls: type, names: tuple[str, ...]) -> bool:
    """Whether a class of the app's in ``cls``'s MRO defines one of ``names`` (asked once
    per class and names)."""
    found: bool = _app_overrides(cls, names)
    return found


@functools.lru_cache(maxsize=64)
def _app_overrides(cls: Any, names: tuple[str, ...]) -> bool:
    return any(
        not part.__module__.startswith(_NOT_THE_APP) and any(name in vars(part) for name in names)
        for part in cls.__mro__
    )
