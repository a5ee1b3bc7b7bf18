"""Reconnect delays are short, capped and jittered; a read that spins is caught."""

from __future__ import annotations

import pytest

from sockd.worker.bus.backoff import FIRST_DELAY, MAX_DELAY, EmptyReads, SpinningRead, retry_delay
from tests.unit.clocks import ManualClock


def test_delays_double_up_to_the_cap_with_half_of_each_random() -> None:
    lowest = [retry_delay(attempt, draw=lambda: 0.0) for attempt in range(1, 8)]
    highest = [retry_delay(attempt, draw=lambda: 1.0) for attempt in range(1, 8)]
    assert highest == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])
    assert lowest == pytest.approx([h / 2 for h in highest])
    assert retry_delay(1, draw=lambda: 0.0) == pytest.approx(FIRST_DELAY / 2)
    assert retry_delay(10_000) <= MAX_DELAY


def test_many_empty_reads_that_did_not_wait_raise() -> None:
    clock = ManualClock()
    reads = EmptyReads(timeout=1.0, limit=5, clock=clock.monotonic)
    for _ in range(4):
        reads.reading()
        reads.empty()  # no time passed: the read did not wait
    reads.reading()
    with pytest.raises(SpinningRead):
        reads.empty()


def test_empty_reads_that_waited_or_a_message_reset_the_count() -> None:
    clock = ManualClock()
    reads = EmptyReads(timeout=1.0, limit=3, clock=clock.monotonic)
    for round_ in range(10):
        reads.reading()
        reads.empty()
        reads.reading()
        if round_ % 2:
            clock.advance(1.0)  # this one waited its timeout
            reads.empty()
        else:
            reads.received()
