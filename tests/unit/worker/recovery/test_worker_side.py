"""A worker's side of recovery, in-process (tests/unit/worker/recovery/inprocess.py): the
CONNECT reply's pid, the notes written through, a restore (the missed packets before the
reply), losses told from ends, and the hold-back of a restoring socket's live packets with
its bound."""

from __future__ import annotations

import json

import pytest

from sockd.worker.recovery import delivery
from sockd.worker.recovery.delivery import packets_of
from sockd.worker.recovery.store import Restored
from tests.unit.worker.recovery.inprocess import PID, Harness, run, until


def test_a_new_socket_gets_a_pid_and_is_written_through() -> None:
    async def scenario() -> None:
        h = Harness()
        ws, [reply] = await h.connect()
        answer = json.loads(reply[2:])
        assert set(answer) == {"sid", "pid"} and answer["sid"] != answer["pid"]
        sid, pid = answer["sid"], answer["pid"]
        assert h.store.notes == [("opened", pid, sid, "/", [sid], {}, "p-7")]
        ws.send('42["join","r"]')
        await until(lambda: h.store.notes[-1] == ("joined", pid, "r"))
        await h.sio.emit("ev", {"n": 1}, to="r")
        assert h.store.notes[-1] == ("sequence", "/", ["r"], [], '2["ev",{"n":1}]')
        await ws.close()
        await until(lambda: h.store.notes[-1] == ("lost", pid, "transport close"))

    run(scenario)


def test_a_claim_gets_its_socket_back_with_the_missed_packets_first() -> None:
    async def scenario() -> None:
        h = Harness()
        missed = [packets_of(b'2["ev",1,"p-8"]'), packets_of(b'2["ev",2,"p-9"]')]
        h.store.answer = (Restored("old-sid", ["old-sid", "r"], {"k": 1}), missed)
        claim = json.dumps({"pid": PID, "offset": "p-7", "token": 3})
        ws, frames = await h.connect(claim)
        assert frames == ['42["ev",1,"p-8"]', '42["ev",2,"p-9"]',
                          f'40{{"sid":"old-sid","pid":"{PID}"}}']  # fmt: skip
        assert h.seen == [("old-sid", True, {"token": 3})], "no pid nor offset for the app"
        assert set(h.sio.rooms("old-sid")) == {"old-sid", "r"}
        assert await h.sio.get_session("old-sid") == {"k": 1}
        assert ("restore", PID, "/", "p-7") in h.store.notes
        assert not [note for note in h.store.notes if note[0] == "opened"]
        ws.send("41")  # the client leaves the namespace: the session ends for good
        await until(lambda: h.store.notes[-1] == ("ended", PID))

    run(scenario)


def test_an_unknown_claim_is_a_fresh_socket() -> None:
    async def scenario() -> None:
        h = Harness()
        _, [reply] = await h.connect(json.dumps({"pid": PID}))
        answer = json.loads(reply[2:])
        assert answer["pid"] != PID
        assert h.seen == [(answer["sid"], False, None)]

    run(scenario)


def test_a_restoring_socket_holds_its_live_packets_then_drops_late_copies() -> None:
    async def scenario() -> None:
        h = Harness()
        ws, [reply] = await h.connect()
        sid = json.loads(reply[2:])["sid"]

        async def deliver(n: int) -> None:
            await h.manager.deliver_numbered((n,), packets_of(f'2["ev",{n}]'.encode()), "/",
                                             None, [])  # fmt: skip

        h.manager.start_restoring("/", sid)
        await deliver(4)  # covered by the answer: dropped
        await deliver(5)  # after it: held, then written
        assert h.manager.finish_restoring("/", sid, [packets_of(b'2["ev",3]')], (4,))
        await deliver(5)  # a late copy of one already written
        await deliver(6)
        frames = [await ws.receive() for _ in range(3)]
        assert frames == ['42["ev",3]', '42["ev",5]', '42["ev",6]']

    run(scenario)


def test_a_restoring_socket_that_holds_too_much_is_not_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delivery, "MAX_HELD", 2)

    async def scenario() -> None:
        h = Harness()
        _, [reply] = await h.connect()
        sid = json.loads(reply[2:])["sid"]
        h.manager.start_restoring("/", sid)
        for n in range(3):
            await h.manager.deliver_numbered((n,), packets_of(b'2["ev"]'), "/", None, [])
        assert not h.manager.finish_restoring("/", sid, [], (0,))

    run(scenario)
