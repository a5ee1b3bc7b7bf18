"""Clocks a test moves by hand, so that waits and deadlines are tested without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class ManualClock:
    """Stands in for the ``time`` module of the module under test (``monotonic`` only)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ShiftedLoop(asyncio.SelectorEventLoop):
    """A real event loop whose clock a test can move forward: timers scheduled with
    ``call_later`` fall due at once when the clock passes them."""

    def __init__(self) -> None:
        super().__init__()
        self.shift = 0.0

    def time(self) -> float:
        return super().time() + self.shift


async def advance(seconds: float) -> None:
    """Move the running ``ShiftedLoop``'s clock and let the timers now due run."""
    loop = asyncio.get_running_loop()
    assert isinstance(loop, ShiftedLoop)
    loop.shift += seconds
    for _ in range(3):  # one turn runs the timers, the next what they scheduled
        await asyncio.sleep(0)


def run_shifted(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a ``ShiftedLoop``."""
    with asyncio.Runner(loop_factory=ShiftedLoop) as runner:
        return runner.run(coroutine)
