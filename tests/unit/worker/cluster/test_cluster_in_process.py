"""sockd.cluster's calls on three real python-socketio servers in one loop, joined by an
in-memory relay (tests/unit/worker/cluster/in_memory.py): each call reaches every server's
sockets, answers for its own without the wire, and says who did not answer."""

from __future__ import annotations

import asyncio

import pytest

from sockd import cluster
from sockd.worker.cluster.requester import MAX_TIMEOUT
from tests.unit.clocks import advance, run_shifted
from tests.unit.worker.app_model.inprocess import PollingClient
from tests.unit.worker.asgi_driver import socketio_app
from tests.unit.worker.cluster.in_memory import cluster_of_servers


def test_fetch_sockets_returns_every_servers_sockets_with_their_details() -> None:
    async def scenario() -> None:
        _, nodes = cluster_of_servers(3)
        sids = {}
        for index, node in enumerate(nodes):
            sid = await node.connect(auth=None, headers={"x-team": f"t{index}"})
            await node.sio.save_session(sid, {"name": f"user{index}"})
            await node.sio.enter_room(sid, "lobby")
            sids[sid] = index
        await nodes[2].connect()  # in no room
        found = await cluster.fetch_sockets(nodes[0].sio, room="lobby")
        assert found.complete and [m.id for m in found.asked] == ["m0", "m1", "m2"]
        assert {s.id: s.member.id for s in found} == {sid: f"m{i}" for sid, i in sids.items()}
        for socket in found:
            index = sids[socket.id]
            assert socket.data == {"name": f"user{index}"}
            assert sorted(socket.rooms) == sorted([socket.id, "lobby"])
            assert socket.handshake["headers"]["x-team"] == f"t{index}"
            assert socket.handshake["address"] == "192.0.2.7"
            assert socket.handshake["query"]["user"] == "ada"
            assert socket.handshake["time"] and socket.handshake["issued"] > 0
        everyone = await cluster.fetch_sockets(nodes[1].sio)
        assert len(everyone) == 4

    asyncio.run(scenario())


def test_rooms_left_out_and_the_limit_are_applied_on_every_server() -> None:
    async def scenario() -> None:
        _, nodes = cluster_of_servers(2)
        for node in nodes:
            for _ in range(3):
                sid = await node.connect()
                await node.sio.enter_room(sid, "lobby")
            await node.sio.enter_room(sid, "muted")
        found = await cluster.fetch_sockets(nodes[0].sio, "lobby", except_rooms="muted")
        assert len(found) == 4 and found.complete
        assert all("muted" not in socket.rooms for socket in found)
        limited = await cluster.fetch_sockets(nodes[0].sio, "lobby", limit=5)
        assert len(limited) == 5 and limited.truncated and not limited.complete
        with pytest.raises(cluster.IncompleteResult, match="truncated") as raised:
            await cluster.fetch_sockets(nodes[0].sio, "lobby", limit=5, strict=True)
        assert len(raised.value.result) == 5  # type: ignore[arg-type]

    asyncio.run(scenario())


def test_join_leave_and_disconnect_act_on_every_server_and_count_the_sockets() -> None:
    async def scenario() -> None:
        _, nodes = cluster_of_servers(3)
        for node in nodes:
            sid = await node.connect()
            await node.sio.enter_room(sid, "lobby")
            await node.connect()
        joined = await cluster.sockets_join(nodes[0].sio, ["vip", "gold"], room="lobby")
        assert joined.count == 3 and joined.complete
        sizes = await cluster.room_sizes(nodes[1].sio)
        assert dict(sizes) == {"lobby": 3, "vip": 3, "gold": 3}, "each socket's own room left out"
        left = await cluster.sockets_leave(nodes[2].sio, "gold")
        assert left.count == 6, "every socket was asked to leave it"
        assert dict(await cluster.room_sizes(nodes[0].sio)) == {"lobby": 3, "vip": 3}
        gone = await cluster.disconnect_sockets(nodes[1].sio, room="vip")
        assert gone.count == 3
        assert len(await cluster.fetch_sockets(nodes[0].sio)) == 3

    asyncio.run(scenario())


def test_a_socket_handle_acts_through_the_server_that_holds_it_alone() -> None:
    async def scenario() -> None:
        wire, nodes = cluster_of_servers(3)
        sid = await nodes[2].connect()
        [socket] = await cluster.fetch_sockets(nodes[0].sio)
        wire.delivered.clear()
        assert (await socket.join("private")).count == 1
        assert wire.delivered == [("m0", "m2")], "only the socket's server is asked"
        assert "private" in nodes[2].sio.rooms(sid)
        assert (await socket.leave("private")).count == 1
        assert "private" not in nodes[2].sio.rooms(sid)
        assert (await socket.disconnect()).count == 1
        assert not nodes[2].sio.manager.is_connected(sid, "/")

    asyncio.run(scenario())


def test_server_side_emit_gets_every_other_servers_reply_or_error() -> None:
    async def scenario() -> None:
        _, nodes = cluster_of_servers(3)
        for index, node in enumerate(nodes):
            cluster.on(node.sio, "whoareyou", lambda greeting, i=index: f"{greeting} from {i}")
        cluster.on(nodes[1].sio, "fragile", lambda: 1 / 0)
        cluster.on(nodes[2].sio, "fragile", lambda: "fine")
        replies = await cluster.server_side_emit(nodes[0].sio, "whoareyou", "hi")
        assert sorted(reply.value for reply in replies) == ["hi from 1", "hi from 2"]
        assert replies.complete and [m.id for m in replies.asked] == ["m1", "m2"]
        fragile = await cluster.server_side_emit(nodes[0].sio, "fragile")
        by_member = {reply.member.id: reply for reply in fragile}
        assert by_member["m1"].error == "ZeroDivisionError: division by zero"
        assert by_member["m2"].value == "fine" and by_member["m2"].error is None
        assert not fragile.complete and [f.member.id for f in fragile.failures] == ["m1"]
        unknown = await cluster.server_side_emit(nodes[0].sio, "nobody-listens")
        assert {reply.error for reply in unknown} == {
            "no handler for server-side event 'nobody-listens' in namespace '/'"
        }

    asyncio.run(scenario())


def test_binary_arguments_and_replies_cross_intact() -> None:
    async def scenario() -> None:
        _, nodes = cluster_of_servers(2)
        cluster.on(nodes[1].sio, "reverse", lambda blob: {"blob": bytes(reversed(blob))})
        [reply] = await cluster.server_side_emit(nodes[0].sio, "reverse", b"\x00\x01\x02")
        assert reply.value == {"blob": b"\x02\x01\x00"}

    asyncio.run(scenario())


def test_a_server_that_never_answers_is_missing_at_the_deadline_and_the_rest_is_there() -> None:
    async def scenario() -> None:
        wire, nodes = cluster_of_servers(3)
        for node in nodes:
            await node.connect()
        wire.silent.add("m2")
        call = asyncio.get_running_loop().create_task(
            cluster.fetch_sockets(nodes[0].sio, timeout=2.0)
        )
        for _ in range(10):  # the call asks; m1 answers, m2 does not
            await advance(0)
        await advance(2.1)
        found = await call
        assert len(found) == 2
        assert [(m.member.id if m.member else None, m.reason) for m in found.missing] == [
            ("m2", "no answer within 2s")
        ]
        assert len(nodes[0].cluster.pending) == 0, "nothing is left behind"

    run_shifted(scenario())


def test_unknown_namespaces_and_bad_arguments_are_refused_before_anything_is_sent() -> None:
    async def scenario() -> None:
        wire, nodes = cluster_of_servers(2)
        with pytest.raises(cluster.UnknownNamespace, match="no namespace '/nope'"):
            await cluster.fetch_sockets(nodes[0].sio, namespace="/nope")
        with pytest.raises(ValueError, match="timeout must be"):
            await cluster.room_sizes(nodes[0].sio, timeout=0)
        with pytest.raises(ValueError, match="timeout must be"):
            await cluster.room_sizes(nodes[0].sio, timeout=MAX_TIMEOUT + 1)
        with pytest.raises(ValueError, match="limit must be"):
            await cluster.fetch_sockets(nodes[0].sio, limit=0)
        with pytest.raises(TypeError, match="rooms are named by strings"):
            await cluster.sockets_join(nodes[0].sio, [1, 2])  # type: ignore[list-item]
        assert wire.delivered == []

    asyncio.run(scenario())


def test_an_emit_that_leaves_rooms_out_reaches_the_rest_on_every_server() -> None:
    async def scenario() -> None:
        _, nodes = cluster_of_servers(2)
        for node in nodes:
            sid = await node.connect()
            await node.sio.enter_room(sid, "lobby")
            muted = await node.connect()
            await node.sio.enter_room(muted, "lobby")
            await node.sio.enter_room(muted, "muted")
        sent = await cluster.emit(
            nodes[0].sio, "news", {"n": 1}, room="lobby", except_rooms=["muted"]
        )
        assert sent.count == 2 and sent.complete
        for node in nodes:
            await node.sio.emit("news", {"n": 2}, to="lobby")  # everyone, as a fence
        for node in nodes:
            receiver, muted = node.clients
            assert (await receiver.next_packet()).data == ["news", {"n": 1}]
            assert (await receiver.next_packet()).data == ["news", {"n": 2}]
            assert (await muted.next_packet()).data == ["news", {"n": 2}], "muted: only the fence"

    asyncio.run(scenario())


def test_a_server_outside_sockd_is_a_cluster_of_one() -> None:
    async def scenario() -> None:
        app = socketio_app(ping_interval=60, ping_timeout=60)
        await PollingClient(app, {}).connect()
        found = await cluster.fetch_sockets(app.engineio_server)
        assert len(found) == 1 and found.complete and len(found.asked) == 1

    asyncio.run(scenario())
