"""The master's recovery relay on fake workers: who gets numbered packets, answers, orders
and notices."""

from __future__ import annotations

import asyncio
from typing import Any

from sockd.config.registry import Settings, with_values
from sockd.supervisor.lifecycle.worker_state import WorkerState
from sockd.supervisor.recovery.relay import RecoveryRelay
from sockd.wire.frames import FrameDecoder, Kind
from sockd.wire.recovery import note, stored_packet, unpack
from tests.unit.supervisor.fake_worker import FakeWorker

SETTINGS = with_values(Settings(), {"io.recovery.max_disconnection_duration": 60.0})


def received(worker: FakeWorker) -> list[tuple[Kind, dict[str, Any], list[bytes]]]:
    frames = FrameDecoder().feed(b"".join(worker.sent))
    worker.sent.clear()
    return [(kind, *unpack(payload)) for kind, payload in frames]


def workers(*states: WorkerState) -> list[FakeWorker]:
    loop = asyncio.new_event_loop()
    made = []
    for slot, state in enumerate(states):
        worker = FakeWorker(slot, loop=loop)
        worker.state = state
        made.append(worker)
    loop.close()
    return made


def relay_for(live: list[FakeWorker]) -> RecoveryRelay:
    return RecoveryRelay(lambda: live, lambda: SETTINGS)


def test_a_stored_packet_goes_numbered_to_every_serving_worker_the_sender_too() -> None:
    a, b, starting = workers(WorkerState.READY, WorkerState.DRAINING, WorkerState.STARTING)
    relay = relay_for([a, b, starting])
    relay.on_sequence(a, Kind.SEQUENCE, stored_packet("/", ["r"], [], '2["ev"]'))
    for worker in (a, b):
        [(kind, header, blobs)] = received(worker)
        assert kind is Kind.SEQUENCED and header["o"].endswith("-1")
        assert blobs == [f'2["ev","{header["o"]}"]'.encode()]
    assert starting.sent == []


def test_a_restore_is_answered_to_its_worker_and_the_old_holder_lets_go() -> None:
    a, b = workers(WorkerState.READY, WorkerState.READY)
    relay = relay_for([a, b])
    relay.on_note(a, Kind.RECOVERY, note("open", pid="p1", sid="s1", namespace="/",
                                         rooms=["s1"], data={"n": 1}, start=None))  # fmt: skip
    relay.on_sequence(b, Kind.SEQUENCE, stored_packet("/", ["s1"], [], '2["ev"]'))
    received(a), received(b)
    relay.on_note(b, Kind.RECOVERY, note("restore", id=7, pid="p1", namespace="/", offset=None))
    [(_, answer, missed)] = received(b)
    assert answer["op"] == "restored" and answer["id"] == 7 and answer["sid"] == "s1"
    assert answer["data"] == {"n": 1} and len(missed) == 1
    [(_, order, _)] = received(a)
    assert order == {"op": "detach", "namespace": "/", "sid": "s1", "pid": "p1", "sizes": []}


def test_a_refused_restore_is_answered_as_refused() -> None:
    [a] = workers(WorkerState.READY)
    relay = relay_for([a])
    relay.on_note(a, Kind.RECOVERY, note("restore", id=1, pid="nobody", namespace="/"))
    [(_, answer, _)] = received(a)
    assert answer["refused"] == "unknown session"


def test_at_expiry_the_last_holder_runs_the_hooks_and_the_origin_hears() -> None:
    a, b, c = workers(WorkerState.READY, WorkerState.READY, WorkerState.READY)
    relay = relay_for([a, b, c])
    relay.on_note(a, Kind.RECOVERY, note("open", pid="p1", sid="s1", namespace="/",
                                         rooms=["room"], data=None, start=None))  # fmt: skip
    relay.on_note(b, Kind.RECOVERY, note("restore", id=1, pid="p1", namespace="/"))
    relay.on_note(b, Kind.RECOVERY, note("lost", pid="p1", reason="ping timeout"))
    for worker in (a, b, c):
        received(worker)
    relay.tick(10**9)
    [(_, to_b, _)] = received(b)
    [(_, to_a, _)] = received(a)
    assert to_b["op"] == "ended" and to_b["hooks"] and to_b["reason"] == "ping timeout"
    assert sorted(to_b["rooms"]) == ["room", "s1"]
    assert to_a["op"] == "ended" and not to_a["hooks"]
    assert c.sent == []


def test_when_its_workers_are_gone_any_serving_worker_runs_the_hooks() -> None:
    a, b = workers(WorkerState.READY, WorkerState.READY)
    relay = relay_for([a, b])
    relay.on_note(a, Kind.RECOVERY, note("open", pid="p1", sid="s1", namespace="/",
                                         rooms=[], data=None, start=None))  # fmt: skip
    a.state = WorkerState.EXITED
    relay.worker_gone(a)
    relay.tick(10**9)
    [(_, notice, _)] = received(b)
    assert notice["op"] == "ended" and notice["hooks"] and notice["reason"] == "transport close"


def test_a_session_opened_before_its_worker_got_any_packet_starts_at_the_log_end() -> None:
    a, b = workers(WorkerState.READY, WorkerState.STARTING)
    relay = relay_for([a, b])
    relay.on_sequence(a, Kind.SEQUENCE, stored_packet("/", None, [], '2["old"]'))
    b.state = WorkerState.READY
    relay.on_note(b, Kind.RECOVERY, note("open", pid="p1", sid="s1", namespace="/",
                                         rooms=[], data=None, start=None))  # fmt: skip
    relay.on_sequence(a, Kind.SEQUENCE, stored_packet("/", None, [], '2["new"]'))
    received(b)
    relay.on_note(b, Kind.RECOVERY, note("restore", id=1, pid="p1", namespace="/"))
    [(_, _, missed)] = received(b)
    assert len(missed) == 1 and b'"new"' in missed[0]


def test_garbage_is_logged_not_raised() -> None:
    [a] = workers(WorkerState.READY)
    relay = relay_for([a])
    relay.on_sequence(a, Kind.SEQUENCE, b"nonsense")
    relay.on_note(a, Kind.RECOVERY, b'{"op":"join"}\n')
    assert a.sent == []
