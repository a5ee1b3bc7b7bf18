"""Rendezvous hashing: keys spread over slots, and scaling moves only about 1/N of them."""

from __future__ import annotations

from collections import Counter

from sockd.supervisor.routing.hashing import RendezvousHash

KEYS = [f"10.{i // 250}.{i % 250}.7".encode() for i in range(4000)]


def owner(hashing: RendezvousHash, key: bytes, slots: int) -> int:
    return hashing.order(key, range(slots))[0]


def test_keys_spread_evenly_over_slots() -> None:
    hashing = RendezvousHash(b"k" * 16)
    counts = Counter(owner(hashing, key, 4) for key in KEYS)
    assert set(counts) == {0, 1, 2, 3}
    assert all(800 <= count <= 1200 for count in counts.values()), counts


def test_order_lists_every_slot_once_and_is_stable() -> None:
    hashing = RendezvousHash(b"k" * 16)
    for key in KEYS[:50]:
        order = hashing.order(key, range(5))
        assert sorted(order) == [0, 1, 2, 3, 4]
        assert hashing.order(key, range(5)) == order


def test_adding_a_slot_moves_only_the_keys_it_wins() -> None:
    hashing = RendezvousHash(b"k" * 16)
    moved = [key for key in KEYS if owner(hashing, key, 4) != owner(hashing, key, 5)]
    assert all(owner(hashing, key, 5) == 4 for key in moved)
    assert 0.15 * len(KEYS) <= len(moved) <= 0.25 * len(KEYS)


def test_removing_a_slot_moves_only_its_own_keys() -> None:
    hashing = RendezvousHash(b"k" * 16)
    for key in KEYS:
        full = hashing.order(key, [0, 1, 2, 3])
        without_two = hashing.order(key, [0, 1, 3])
        assert without_two == [slot for slot in full if slot != 2]


def test_the_secret_changes_the_mapping() -> None:
    one, other = RendezvousHash(b"a" * 16), RendezvousHash(b"b" * 16)
    differ = sum(owner(one, key, 4) != owner(other, key, 4) for key in KEYS)
    assert differ > len(KEYS) // 2
