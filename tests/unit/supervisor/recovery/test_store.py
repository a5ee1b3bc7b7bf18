"""The master's recovery store: exactly once or not at all, and never another's packets."""

from __future__ import annotations

from typing import Any

import pytest

from sockd.supervisor.recovery.store import Bounds, RecoveryStore, Refused, Restored
from sockd.wire.recovery import unpack

EPOCH = "0badcafe"
A, B = 101, 102  # worker pids


def bounds(**changes: Any) -> Bounds:
    values = dict(
        max_disconnection_duration=60.0, retention=100.0, max_sessions=100,
        max_buffer_bytes=10**6, max_missed_packets=100,
    )  # fmt: skip
    values.update(changes)
    return Bounds(**values)


@pytest.fixture
def store() -> RecoveryStore:
    return RecoveryStore(bounds(), epoch=EPOCH)


def emit(store: RecoveryStore, rooms: list[str] | None, text: str = '2["ev",1]', **kw: Any) -> str:
    header = {"n": kw.get("namespace", "/"), "r": rooms, "x": kw.get("excluded", [])}
    packet = store.sequence(header, [text.encode()], kw.get("at", 0.0))
    return store.offset(packet.n)


def open_session(
    store: RecoveryStore, pid: str, sid: str, rooms: list[str], worker: int = A, start: int = 0
) -> None:
    note = {"pid": pid, "sid": sid, "namespace": "/", "rooms": rooms, "data": {"k": 1}}
    assert store.open(note, worker, start) == []


def texts(result: Restored | Refused) -> list[str]:
    assert isinstance(result, Restored), result
    return [unpack(packet.payload)[1][0].decode() for packet in result.missed]


def test_a_stored_packet_carries_its_offset_as_the_last_argument(store: RecoveryStore) -> None:
    header = {"n": "/chat", "r": ["r1"], "x": ["s9"]}
    packet = store.sequence(header, [b'2/chat,["ev",{"a":1}]', b"\x01\x02"], 5.0)
    fields, blobs = unpack(packet.payload)
    text = f'2/chat,["ev",{{"a":1}},"{EPOCH}-1"]'.encode()
    assert blobs == [text, b"\x01\x02"]
    assert fields == {"n": "/chat", "r": ["r1"], "x": ["s9"], "o": f"{EPOCH}-1",
                      "sizes": [len(text), 2]}  # fmt: skip


def test_restore_gives_back_id_rooms_data_and_only_what_it_missed(store: RecoveryStore) -> None:
    open_session(store, "p1", "s1", ["s1", "room"])
    first = emit(store, ["room"], '2["ev",1]')
    emit(store, ["other"], '2["ev",2]')
    emit(store, ["room"], '2["ev",3]')
    emit(store, ["s1"], '2["ev",4]')
    store.lost("p1", A, "transport close", now=10.0)
    result = store.restore("p1", "/", first, B, now=11.0)
    assert texts(result) == [f'2["ev",3,"{EPOCH}-3"]', f'2["ev",4,"{EPOCH}-4"]']
    assert isinstance(result, Restored)
    assert (result.session.sid, result.session.rooms) == ("s1", {"s1", "room"})
    assert result.session.data == {"k": 1} and result.session.owner == B


def test_without_an_offset_everything_since_the_session_began_comes_back(
    store: RecoveryStore,
) -> None:
    """socket.io#5538: a client that got nothing yet sends no offset; Node then refuses."""
    emit(store, ["room"])  # before the session: not its own
    open_session(store, "p1", "s1", ["room"], start=1)
    emit(store, ["room"], '2["ev","late"]')
    assert texts(store.restore("p1", "/", None, A, now=1.0)) == [f'2["ev","late","{EPOCH}-2"]']


def test_repeated_recoveries_each_replay_from_their_own_offset(store: RecoveryStore) -> None:
    """socket.io#4880: recovering twice in a row."""
    open_session(store, "p1", "s1", ["room"])
    offset = emit(store, ["room"])
    for round_ in range(3):
        store.lost("p1", A if round_ == 0 else B, "transport close", now=float(round_))
        emit(store, ["room"], f'2["ev","{round_}"]')
        result = store.restore("p1", "/", offset, B, now=float(round_) + 0.5)
        assert len(texts(result)) == 1
        offset = store.offset(store.log.last)


def test_a_late_loss_from_the_old_transport_changes_nothing(store: RecoveryStore) -> None:
    """The half-open case: the client recovered on B while A still held the socket; A's
    ping timeout later must not mark the recovered session lost (nor end it)."""
    open_session(store, "p1", "s1", ["room"])
    result = store.restore("p1", "/", None, B, now=1.0)
    assert isinstance(result, Restored) and result.taken_from == A
    store.lost("p1", A, "ping timeout", now=30.0)
    assert store.end("p1", A) is None
    session = store.sessions.get("p1")
    assert session is not None and session.owner == B and session.disconnected_at is None


def test_a_killed_worker_loses_its_sessions_then_and_they_expire_from_then(
    store: RecoveryStore,
) -> None:
    open_session(store, "p1", "s1", [], worker=A)
    open_session(store, "p2", "s2", [], worker=B)
    store.worker_gone(A, now=100.0)
    assert store.expire(now=159.0) == []
    assert [s.pid for s in store.expire(now=161.0)] == ["p1"]
    assert store.sessions.get("p2") is not None


@pytest.mark.parametrize(
    "offset",
    ["deadbeef-1", f"{EPOCH}-99", f"{EPOCH}-x", "1-1", f"{EPOCH}--1", "", f"{EPOCH}-1 "],
)
def test_an_offset_this_master_never_gave_is_a_fresh_session(
    store: RecoveryStore, offset: str
) -> None:
    open_session(store, "p1", "s1", ["room"])
    emit(store, ["room"])
    result = store.restore("p1", "/", offset, A, now=0.0)
    assert isinstance(result, Refused) and result.ended is not None


def test_unknown_pids_and_other_namespaces_are_refused(store: RecoveryStore) -> None:
    open_session(store, "p1", "s1", [])
    assert store.restore("nope", "/", None, A, now=0.0) == Refused("unknown session")
    refused = store.restore("p1", "/other", None, A, now=0.0)
    assert isinstance(refused, Refused) and refused.ended is None
    assert "p1" in store.sessions  # not that client's to end


def test_an_expired_session_is_refused_and_ended(store: RecoveryStore) -> None:
    open_session(store, "p1", "s1", [])
    store.lost("p1", A, "transport close", now=0.0)
    result = store.restore("p1", "/", None, A, now=61.0)
    assert isinstance(result, Refused) and result.reason == "expired"
    assert result.ended is not None and result.ended.reason == "transport close"


def test_another_sessions_offset_leaks_nothing(store: RecoveryStore) -> None:
    """A forged offset only moves where the replay starts; it is filtered by the session's
    own rooms, and never starts before the session did."""
    emit(store, ["secret"])
    open_session(store, "p1", "s1", ["public"], start=1)
    emit(store, ["secret"])
    emit(store, ["public"], '2["ev","mine"]')
    assert texts(store.restore("p1", "/", f"{EPOCH}-0", A, now=0.0)) == [
        f'2["ev","mine","{EPOCH}-3"]'
    ]


def test_more_missed_than_the_bound_is_a_fresh_session_not_a_partial_one() -> None:
    store = RecoveryStore(bounds(max_missed_packets=2), epoch=EPOCH)
    open_session(store, "p1", "s1", ["room"])
    for _ in range(3):
        emit(store, ["room"])
    result = store.restore("p1", "/", None, A, now=0.0)
    assert isinstance(result, Refused) and result.ended is not None
    assert "p1" not in store.sessions


def test_packets_dropped_by_the_bytes_bound_refuse_only_whom_they_concern() -> None:
    store = RecoveryStore(bounds(max_buffer_bytes=600), epoch=EPOCH)
    open_session(store, "p1", "s1", ["busy"])
    open_session(store, "p2", "s2", ["quiet"])
    for _ in range(5):
        emit(store, ["busy"])
    assert store.counters.packets_over_bytes > 0
    assert isinstance(store.restore("p1", "/", None, A, now=0.0), Refused)
    assert texts(store.restore("p2", "/", None, A, now=0.0)) == []


def test_the_session_bound_evicts_the_oldest_lost_session_first() -> None:
    store = RecoveryStore(bounds(max_sessions=2), epoch=EPOCH)
    open_session(store, "p1", "s1", [])
    open_session(store, "p2", "s2", [])
    store.lost("p2", A, "transport close", now=1.0)
    store.lost("p1", A, "transport close", now=2.0)
    note = {"pid": "p3", "sid": "s3", "namespace": "/", "rooms": [], "data": None}
    assert [s.pid for s in store.open(note, A, 0)] == ["p2"]
    store.restore("p1", "/", None, A, now=3.0)  # attached again
    note = {"pid": "p4", "sid": "s4", "namespace": "/", "rooms": [], "data": None}
    assert store.open(note, A, 0) == []
    assert "p4" not in store.sessions and store.counters.sessions_refused == 1


def test_packets_are_kept_for_the_retention_not_just_the_window(store: RecoveryStore) -> None:
    open_session(store, "p1", "s1", ["room"])
    emit(store, ["room"], at=0.0)
    store.lost("p1", A, "ping timeout", now=45.0)  # its transport died unnoticed at ~0
    store.expire(now=99.0)
    assert len(texts(store.restore("p1", "/", None, B, now=99.0))) == 1
