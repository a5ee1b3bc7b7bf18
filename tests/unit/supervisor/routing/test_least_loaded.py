"""New sessions go to the least-loaded slot: reported sessions plus the placements of the
last ``WINDOW`` seconds, which the reports do not include yet; equal slots take turns."""

from __future__ import annotations

from collections import Counter

import pytest

from sockd.supervisor.routing import least_loaded
from sockd.supervisor.routing.least_loaded import WINDOW, LeastLoaded
from tests.unit.clocks import ManualClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ManualClock:
    clock = ManualClock()
    monkeypatch.setattr(least_loaded, "time", clock)
    return clock


def test_the_slot_with_fewest_reported_sessions_comes_first(clock: ManualClock) -> None:
    reported = {0: 5, 1: 2, 2: 9}
    order = LeastLoaded(reported.__getitem__).order([0, 1, 2])
    assert order == [1, 0, 2]


def test_a_burst_spreads_before_any_report_counts_it(clock: ManualClock) -> None:
    """Within one report interval, each placement counts as load at once."""
    balancer = LeastLoaded(lambda slot: 0)
    firsts = Counter(balancer.order([0, 1, 2])[0] for _ in range(30))
    assert firsts == {0: 10, 1: 10, 2: 10}


def test_a_loaded_slot_gets_new_sessions_only_once_the_others_catch_up(
    clock: ManualClock,
) -> None:
    reported = {0: 0, 1: 4}
    balancer = LeastLoaded(reported.__getitem__)
    firsts = [balancer.order([0, 1])[0] for _ in range(6)]
    assert firsts[:4] == [0, 0, 0, 0]
    assert sorted(firsts[4:]) == [0, 1]


def test_placements_stop_counting_after_the_window(clock: ManualClock) -> None:
    reported = {0: 0, 1: 3}
    balancer = LeastLoaded(reported.__getitem__)
    assert [balancer.order([0, 1])[0] for _ in range(3)] == [0, 0, 0]
    reported[1] = 1
    clock.advance(WINDOW / 2)
    assert balancer.order([0, 1])[0] == 1, "slot 0's three placements count: 3 > 1"
    clock.advance(WINDOW / 2 + 0.01)
    assert balancer.order([0, 1])[0] == 0, "they no longer do: 0 < 1 + 1 (slot 1's own)"


def test_every_slot_is_listed_once_for_fallback(clock: ManualClock) -> None:
    balancer = LeastLoaded(lambda slot: slot % 3)
    for _ in range(10):
        assert sorted(balancer.order([4, 7, 9, 12])) == [4, 7, 9, 12]
