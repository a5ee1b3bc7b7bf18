"""Publisher numbers: readers drop copies, count what they skipped, and stay bounded."""

from __future__ import annotations

from sockd.worker.bus.sequences import Sequences


def test_publishes_are_numbered_from_one() -> None:
    sequences = Sequences()
    assert [sequences.next() for _ in range(3)] == [1, 2, 3]


def test_a_resent_message_is_dropped_once_seen() -> None:
    reader = Sequences()
    # A batch 1..3 timed out but reached Redis; it went again with 4 behind it.
    arrivals = [1, 2, 3, 1, 2, 3, 4]
    kept = [n for n in arrivals if reader.fresh("worker-a", n)]
    assert kept == [1, 2, 3, 4]
    assert reader.duplicates == 3
    assert reader.missed == 0


def test_the_late_first_copy_of_a_resent_batch_is_dropped_too() -> None:
    reader = Sequences()
    kept = [n for n in [1, 2, 3, 4, 5, 1, 2, 3] if reader.fresh("worker-a", n)]
    assert kept == [1, 2, 3, 4, 5]
    assert reader.duplicates == 3


def test_a_jump_is_counted_as_missed() -> None:
    reader = Sequences()
    kept = [n for n in [1, 2, 6, 7, 10] if reader.fresh("worker-a", n)]
    assert kept == [1, 2, 6, 7, 10]
    assert reader.missed == 3 + 2


def test_publishers_are_counted_apart_and_a_new_one_starts_without_a_gap() -> None:
    reader = Sequences()
    assert reader.fresh("worker-a", 1)
    assert reader.fresh("worker-b", 40)  # joined after b's first 39: not this reader's loss
    assert reader.fresh("worker-a", 2)
    assert not reader.fresh("worker-b", 40)
    assert reader.missed == 0
    assert reader.duplicates == 1


def test_the_least_recently_heard_publisher_is_forgotten_first() -> None:
    reader = Sequences(max_publishers=2)
    reader.fresh("a", 5)
    reader.fresh("b", 5)
    reader.fresh("a", 6)  # a was heard from last
    reader.fresh("c", 1)  # forgets b
    assert not reader.fresh("a", 6)  # a is still known
    assert reader.fresh("b", 5)  # b starts over: its copy is not recognised any more
