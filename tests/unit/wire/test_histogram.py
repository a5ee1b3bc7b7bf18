"""Histograms bucketed in the worker, shipped as counts, added up in the master."""

from __future__ import annotations

from sockd.wire.histogram import HANDLER_BOUNDS, Histogram


def test_a_value_on_a_bound_falls_in_that_bucket_and_above_all_in_inf() -> None:
    histogram = Histogram((0.1, 1.0))
    for value in (0.0, 0.1, 0.5, 1.0, 7.0):
        histogram.observe(value)
    assert histogram.counts == [2, 2, 1]
    assert histogram.cumulative() == [("0.1", 2), ("1.0", 4), ("+Inf", 5)]
    assert histogram.count == 5 and histogram.sum == 8.6


def test_the_wire_form_round_trips_and_adds_up() -> None:
    worker = Histogram(HANDLER_BOUNDS)
    worker.observe(0.0002)
    worker.observe(3.0)
    received = Histogram.from_wire(worker.to_wire())
    assert received is not None
    total = Histogram(HANDLER_BOUNDS)
    assert total.add(received) and total.add(received)
    assert total.count == 4 and total.sum == 2 * worker.sum
    assert total.counts == [2 * n for n in worker.counts]


def test_other_buckets_are_not_mixed_in_and_garbage_is_refused() -> None:
    total = Histogram((1.0,))
    assert not total.add(Histogram((2.0,)))
    assert total.count == 0
    for garbage in (
        None,
        {},
        {"le": [1.0], "n": [1], "sum": 0},
        {"le": [2, 1], "n": [0, 0, 0], "sum": 0},
        {"le": ["x"], "n": [0, 0], "sum": 0},
    ):
        assert Histogram.from_wire(garbage) is None
