"""Connection state recovery on the wire: raw Engine.IO / Socket.IO, every byte the test's.

What the official client relies on (socket.io 4.6+): the CONNECT reply's ``pid``, the
offset as a stored event's last argument (never on acks, nor on events that ask for one), a
CONNECT with ``{pid, offset}`` answered with the missed events first and then the same
``sid`` and ``pid``, over WebSocket and long-polling. And what sockd does better than Node
or refuses: a claim without an offset, recoveries in a row, an old transport still open,
and bad claims (unknown, expired, malformed), which get a fresh session, never an error.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from tests.e2e.protocol_wire import Wire, payload
from tests.e2e.recovery_wire import connect, event, say
from tests.harness import SockdLauncher, SockdProcess, SourceAddresses, worker_map

APP = "tests.apps.recovery_app:app"
#: The recovery window of this module's sockd (short, for the expiry test).
WINDOW = 3.0


@pytest.fixture(scope="module")
def cluster(sockd_module: SockdLauncher) -> Iterator[SockdProcess]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION", str(WINDOW))
        yield sockd_module(app=APP, workers=2)


def test_the_connect_reply_has_a_pid_and_stored_events_an_offset(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with Wire(cluster.port, source_addresses(1)[0]) as wire:
            me = await connect(wire, {"token": 7})
            assert set(me.reply) == {"sid", "pid"} and me.pid != me.sid
            answer, _ = await me.call("join", "r")
            assert answer == [{"sid": me.sid, "worker": answer[0]["worker"]}], "no offset on acks"
            _, before = await me.call("say", {"room": "r", "n": 1})  # to its own room
            said = [event(frame) for frame in before] or await me.events(1)
            [[name, message, offset]] = said
            assert (name, message) == ("said", {"room": "r", "n": 1})
            assert isinstance(offset, str) and offset
            await me.call("tell", {"to": me.sid, "n": 2})
            [[name, message, second]] = await me.events(1)
            assert name == "told" and second != offset, "an emit to one socket is stored too"
            [who], _ = await me.call("whoami")
            assert who["auth"] == {"token": 7} and who["recovered"] is False

    asyncio.run(scenario())


def test_a_recovery_over_websocket_writes_the_missed_events_then_the_reply(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        mine, theirs = source_addresses(2)
        async with Wire(cluster.port, mine) as wire, Wire(cluster.port, theirs) as other:
            me, speaker = await connect(wire), await connect(other)
            await me.call("join", "r")
            await say(speaker, 1)
            [[_, _, offset]] = await me.events(1)
            await me.ws.close()
            for n in (2, 3):
                await say(speaker, n)
            back = await connect(wire, {"pid": me.pid, "offset": offset, "token": 8})
            assert back.reply == {"sid": me.sid, "pid": me.pid}
            assert [event(frame)[1]["n"] for frame in back.early] == [2, 3]
            [who], _ = await back.call("whoami")
            assert who["recovered"] is True and "r" in who["rooms"]
            assert who["auth"] == {"token": 8}, "the app never sees pid and offset"

    asyncio.run(scenario())


def test_a_recovery_over_long_polling(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """The client's Engine.IO close packet ends the session as a loss (Node: transport
    close); the missed events come before the CONNECT reply, in the polls of the new session."""

    async def scenario() -> None:
        mine, theirs = source_addresses(2)
        async with Wire(cluster.port, mine) as wire, Wire(cluster.port, theirs) as other:
            speaker = await connect(other)
            old, reply = await polling_connect(wire, "40")
            assert (await wire.push(old, '421["join","r"]')).status == 200
            assert payload((await wire.poll(old)).text)[0].startswith("431[")
            await say(speaker, 1)
            [said] = payload((await wire.poll(old)).text)
            offset = event(said)[-1]
            assert (await wire.push(old, "1")).status == 200
            await say(speaker, 2)
            claim = json.dumps({"pid": reply["pid"], "offset": offset})
            new, again = await polling_connect(wire, "40" + claim)
            assert again["early"] == [2]
            assert (again["sid"], again["pid"]) == (reply["sid"], reply["pid"])
            assert new != old

    asyncio.run(scenario())


async def polling_connect(wire: Wire, connect: str) -> tuple[str, dict[str, Any]]:
    """A new long-polling session that sent ``connect``: its Engine.IO sid, and the CONNECT
    reply's data with ``early``, the ``n`` of the events that came before it."""
    sid = str((await wire.handshake())["sid"])
    assert (await wire.push(sid, connect)).status == 200
    early: list[int] = []
    for _ in range(5):
        reply = await wire.poll(sid)
        assert reply.status == 200, reply
        for packet in payload(reply.text):
            if packet.startswith("40"):
                return sid, {**json.loads(packet[2:]), "early": early}
            early.append(event(packet)[1]["n"])
    raise AssertionError("no CONNECT reply in five polls")


def test_unknown_expired_and_malformed_claims_get_a_fresh_session(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with Wire(cluster.port, source_addresses(1)[0]) as wire:
            me = await connect(wire)
            await me.ws.close()
            claims: list[dict[str, Any]] = [
                {"pid": "A" * 22, "offset": "0-0"},  # nobody's
                {"pid": me.pid, "offset": "ffffffff-1"},  # another master's offset
                {"pid": 42, "offset": "1"},
                {"pid": me.pid[:4]},
                {"pid": "x" * 5000, "offset": "y" * 5000},
                {"pid": me.pid, "offset": 7, "token": 1},
            ]
            for claim in claims:
                fresh = await connect(wire, claim)
                assert fresh.sid != me.sid and fresh.pid != me.pid and fresh.early == []
                [who], _ = await fresh.call("whoami")
                assert who["recovered"] is False
                await fresh.ws.close()
            # The refused claim with this session's pid ended it: it cannot come back.
            late = await connect(wire, {"pid": me.pid})
            assert late.sid != me.sid

    asyncio.run(scenario())


def test_an_expired_window_gives_a_fresh_session(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with Wire(cluster.port, source_addresses(1)[0]) as wire:
            me = await connect(wire)
            await me.ws.close()
            await asyncio.sleep(WINDOW + 2.0)  # the window, and the store's once-a-second pass
            again = await connect(wire, {"pid": me.pid})
            assert again.sid != me.sid and again.pid != me.pid

    asyncio.run(scenario())


def test_without_an_offset_everything_since_the_connect_comes_back(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """socket.io#5538: a client that got no event yet sends its pid and no offset."""

    async def scenario() -> None:
        mine, theirs = source_addresses(2)
        async with Wire(cluster.port, mine) as wire, Wire(cluster.port, theirs) as other:
            speaker = await connect(other)
            await say(speaker, 0)  # before this session: never its own
            me = await connect(wire)
            await me.call("join", "r")
            await me.ws.close()
            await say(speaker, 1)
            back = await connect(wire, {"pid": me.pid})
            assert back.sid == me.sid
            assert [event(frame)[1]["n"] for frame in back.early] == [1]

    asyncio.run(scenario())


def test_recoveries_in_a_row_each_get_what_they_missed(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """socket.io#4880: a recovered session recovers again."""

    async def scenario() -> None:
        mine, theirs = source_addresses(2)
        async with Wire(cluster.port, mine) as wire, Wire(cluster.port, theirs) as other:
            speaker = await connect(other)
            me = await connect(wire)
            await me.call("join", "r")
            offset = None
            for n in range(1, 4):
                await me.ws.close()
                await say(speaker, n)
                claim = {"pid": me.pid} if offset is None else {"pid": me.pid, "offset": offset}
                me = await connect(wire, claim)
                assert [event(frame)[1]["n"] for frame in me.early] == [n]
                offset = event(me.early[-1])[-1]

    asyncio.run(scenario())


@pytest.mark.parametrize("where", ["same worker", "another worker"])
def test_a_recovery_takes_over_from_a_transport_still_open(
    cluster: SockdProcess, source_addresses: SourceAddresses, where: str
) -> None:
    """The half-open case: the old WebSocket is still open when the client comes back on
    a new one. The old one is closed, and its end changes nothing for the recovered one."""

    async def scenario() -> None:
        sources = source_addresses(10)
        workers = await worker_map(cluster.port, sources)
        first = sources[0]
        second = next(
            s for s in sources[1:] if (workers[s] == workers[first]) == (where == "same worker")
        )
        speaker_source = sources[-1]
        async with (
            Wire(cluster.port, first) as old_wire,
            Wire(cluster.port, second) as new_wire,
            Wire(cluster.port, speaker_source) as other,
        ):
            speaker = await connect(other)
            old = await connect(old_wire)
            await old.call("join", "r")
            new = await connect(new_wire, {"pid": old.pid})
            assert new.sid == old.sid
            closed_by_server = await wait_closed(old.ws, 5.0)
            assert closed_by_server, "the old transport was not closed"
            await say(speaker, 1)
            [[_, message, _]] = await new.events(1)
            assert message["n"] == 1
            [who], _ = await new.call("whoami")
            assert "r" in who["rooms"] and who["recovered"] is True

    asyncio.run(scenario())


async def wait_closed(ws: ClientConnection, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
        except TimeoutError:
            return False
        except Exception:
            return True
        if frame == "2":
            await ws.send("3")
    return False
