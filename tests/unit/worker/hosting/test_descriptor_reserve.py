"""The worker's descriptor reserve, on counts the test sets: the mark below the limit, the
received descriptor's number as a floor, counting only near the mark, and the low mark
under which it takes connections again."""

from __future__ import annotations

from sockd.worker.hosting.descriptor_reserve import DescriptorReserve, reserve_for


class Process:
    """The open descriptors and the limit, as the test says; counts how often it is read."""

    def __init__(self, open_now: int, limit: int = 256) -> None:
        self.open_now = open_now
        self.limit = limit
        self.readings = 0
        self.now = 0.0

    def count(self) -> int:
        self.readings += 1
        return self.open_now

    def reserve(self) -> DescriptorReserve:
        return DescriptorReserve(self.count, lambda: self.limit, lambda: self.now)


def test_the_reserve_is_a_share_of_the_limit_within_bounds() -> None:
    assert reserve_for(256) == 32
    assert reserve_for(64) == 16
    assert reserve_for(1 << 20) == 1024


def test_far_from_the_mark_nothing_is_counted() -> None:
    process = Process(20)
    reserve = process.reserve()
    for fd in range(20, 120):
        process.open_now += 1
        assert reserve.take(fd)
    assert process.readings == 1, "only at the start"


def test_a_descriptor_numbered_at_the_mark_proves_the_worker_full() -> None:
    process = Process(20)
    reserve = process.reserve()
    process.now = 0.0  # a count would be allowed, but the estimate says it all
    assert not reserve.take(reserve.mark - 1)
    assert reserve.full
    assert not reserve.take(10), "full until it is counted below the low mark"


def test_an_estimate_past_the_mark_is_checked_by_a_count() -> None:
    process = Process(200)
    reserve = process.reserve()
    process.now = 1.0
    process.open_now = 150  # connections closed meanwhile: the estimate is too high
    for fd in range(30):
        assert reserve.take(fd), "the count shows room"
    assert process.readings >= 2


def test_it_takes_connections_again_only_below_the_low_mark() -> None:
    process = Process(20)
    reserve = process.reserve()
    assert not reserve.take(reserve.mark)
    process.open_now = reserve.mark - 5
    assert not reserve.check(), "a few closed: still within the hysteresis"
    process.open_now = reserve.mark - reserve_for(256) // 2 - 1
    assert reserve.check()
    assert not reserve.full and reserve.take(50)


def test_a_lowered_limit_counts_from_the_next_descriptor() -> None:
    process = Process(100, limit=4096)
    reserve = process.reserve()
    process.limit = 120  # prlimit on the running worker
    process.now = 1.0
    process.open_now = 110
    assert not reserve.take(109), "past 120 - 16"
    assert reserve.limit == 120
