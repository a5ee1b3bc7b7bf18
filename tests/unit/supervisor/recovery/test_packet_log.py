"""The master's packet log: one numbering, missed packets by room, honest bounds."""

from __future__ import annotations

import pytest

from sockd.supervisor.recovery import packet_log
from sockd.supervisor.recovery.packet_log import OVERHEAD, PacketLog, StoredPacket


def stored(
    log: PacketLog,
    rooms: tuple[str, ...] | None,
    *,
    at: float = 0.0,
    namespace: str = "/",
    excluded: frozenset[str] = frozenset(),
    size: int = 10,
) -> int:
    n = log.next_number()
    log.append(StoredPacket(n, at, namespace, rooms, excluded, b"x" * size))
    return n


def numbers(packets: object) -> list[int]:
    return [packet.n for packet in packets]  # type: ignore[attr-defined]


def test_missed_packets_are_those_after_n_that_reach_the_socket_in_order() -> None:
    log = PacketLog(max_bytes=10**6)
    stored(log, ("a",))  # 1
    stored(log, ("b",))  # 2
    stored(log, None)  # 3: the whole namespace
    stored(log, ("a", "b"))  # 4: once, though two of its rooms match
    stored(log, ("a",), namespace="/other")  # 5
    stored(log, ("a",), excluded=frozenset({"sid1"}))  # 6: skip_sid
    stored(log, ("sid1",))  # 7: an emit to the socket itself
    rooms = frozenset({"sid1", "a", "b"})
    assert numbers(log.missed("/", 0, rooms, "sid1")) == [1, 2, 3, 4, 7]
    assert numbers(log.missed("/", 3, rooms, "sid1")) == [4, 7]
    assert numbers(log.missed("/", 0, frozenset({"sid2", "b"}), "sid2")) == [2, 3, 4]
    assert numbers(log.missed("/other", 0, frozenset({"a"}), "x")) == [5]


def test_the_bytes_bound_drops_the_oldest_and_a_restore_past_them_is_incomplete() -> None:
    log = PacketLog(max_bytes=3 * (OVERHEAD + 10))
    stored(log, ("a",))  # 1
    stored(log, ("b",))  # 2
    stored(log, ("a",))  # 3
    assert log.append(StoredPacket(4, 0.0, "/", ("a",), frozenset(), b"x" * 10)) == 1
    assert len(log) == 3 and log.bytes <= log.max_bytes
    # Packet 1 (room a) is gone: a socket in "a" that got nothing after 0 cannot recover,
    # one that had 1 can.
    assert not log.complete_after("/", 0, {"sidA", "a"})
    assert log.complete_after("/", 1, {"sidA", "a"})
    # A socket only in "b" lost nothing: it still recovers from before the log's head
    # (Node would refuse: its offset is no longer in the buffer).
    assert log.complete_after("/", 0, {"sidB", "b"})
    assert numbers(log.missed("/", 0, frozenset({"sidB", "b"}), "sidB")) == [2]


def test_packets_to_the_whole_namespace_count_for_every_room() -> None:
    log = PacketLog(max_bytes=OVERHEAD + 10)
    stored(log, None)
    stored(log, ("a",))
    assert not log.complete_after("/", 0, {"sid", "b"})
    assert log.complete_after("/other", 0, {"sid", "b"})


def test_age_drops_the_oldest_in_order() -> None:
    log = PacketLog(max_bytes=10**6)
    for at in (1.0, 2.0, 3.0):
        stored(log, ("a",), at=at)
    assert log.drop_older_than(2.5) == 2
    assert numbers(log.missed("/", 0, frozenset({"a"}), "s")) == [3]
    assert not log.complete_after("/", 1, {"a"})
    assert log.complete_after("/", 2, {"a"})


def test_watermarks_stay_while_a_session_may_need_them() -> None:
    log = PacketLog(max_bytes=10**6)
    stored(log, ("a",), at=1.0)
    stored(log, ("b",), at=2.0)
    log.drop_older_than(3.0)
    log.forget_watermarks(oldest_start=0)  # a session from before packet 1 exists
    assert not log.complete_after("/", 0, {"a"})
    log.forget_watermarks(oldest_start=2)  # every session started after both
    assert log.complete_after("/", 2, {"a", "b"})


def test_too_many_watermarks_fold_into_one_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packet_log, "MAX_WATERMARKS", 2)
    log = PacketLog(max_bytes=10**6)
    for room in ("a", "b", "c"):
        stored(log, (room,), at=1.0)
    log.drop_older_than(2.0)
    log.forget_watermarks(oldest_start=0)
    # Folded: conservative for every room, even one that never had a packet.
    assert not log.complete_after("/", 2, {"z"})
    assert log.complete_after("/", 3, {"z"})
