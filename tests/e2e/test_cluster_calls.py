"""sockd.cluster on real clusters: one sockd of 4 workers (the IPC bus), and two sockd of
2 workers each sharing a redis-server of the module's own (the Redis bus). Every call is
made by one worker about sockets held by the others (other hosts, with Redis), through the
app in tests/apps/cluster_app.py, and answers as an app sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import running_redis
from tests.harness import (
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    by_worker,
    gather_bounded,
    run_sockd,
    sockd_status,
    wait_until,
)

APP = "tests.apps.cluster_app:sio"
TRANSPORTS = ["websocket"]


@dataclass
class Cluster:
    ports: list[int]
    #: The worker pids, every one of which must answer.
    pids: set[int]


@pytest.fixture(scope="module", params=["ipc", "redis-streams", "redis-pubsub"])
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """4 workers: one sockd over the master, or two sockd sharing a redis-server of their
    own (a fresh one for each bus: no other test's workers announce themselves on it)."""
    launcher = SockdLauncher()
    try:
        if request.param == "ipc":
            yield _started([launcher(app=APP, workers=4)])
            return
        bus = request.param.removeprefix("redis-")
        with running_redis(tmp_path_factory.mktemp(f"cluster-{bus}")) as redis:
            hosts = [launcher(app=APP, workers=2, redis=redis.url, redis_bus=bus) for _ in range(2)]
            yield _started(hosts)
            launcher.close()  # before its Redis goes
    finally:
        launcher.close()


def _started(hosts: list[SockdProcess]) -> Cluster:
    pids = {pid for host in hosts for pid in host.slot_pids().values()}
    assert len(pids) == 4
    return Cluster([host.port for host in hosts], pids)


@contextlib.asynccontextmanager
async def named_clients(cluster: Cluster, addresses: Sequence[str]) -> AsyncIterator[list[Client]]:
    """A named client per address, spread over the hosts (and so over every worker)."""
    opened = [
        Client(cluster.ports[n % len(cluster.ports)], ip, TRANSPORTS, auth={"name": f"u{n}"})
        for n, ip in enumerate(addresses)
    ]
    try:
        results = await gather_bounded((c.connect() for c in opened), 12)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert not failed, f"{len(failed)} clients failed to connect: {failed[0]!r}"
        await _groups(opened, cluster)
        yield opened
    finally:
        await _close(opened)


async def _close(clients: Sequence[Client]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def _groups(clients: Sequence[Client], cluster: Cluster) -> dict[int, list[Client]]:
    groups = await by_worker(clients)
    assert set(groups) == cluster.pids, f"clients reached {sorted(groups)} of {cluster.pids}"
    return groups


async def _call(client: Client, call: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    result = await client.call("call", {"call": call, "args": args, "kwargs": kwargs}, 20.0)
    assert isinstance(result, dict), result
    return result


def test_fetch_sockets_returns_every_workers_sockets_with_data_and_handshake(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            groups = await by_worker(clients)
            room = f"room-{uuid.uuid4()}"
            members = [group[0] for group in groups.values()] + [clients[-1]]
            await asyncio.gather(*(c.call("join", room) for c in members))
            asker = next(c for c in clients if c not in members)
            found = await _call(asker, "fetch_sockets", room=room)
            assert found["complete"] and set(found["asked"]) == cluster.pids
            by_id = {s["id"]: s for s in found["sockets"]}
            assert set(by_id) == {c.sid for c in members}
            for client in members:
                socket = by_id[client.sid]
                assert socket["data"] == client.auth and room in socket["rooms"]
                assert socket["handshake"]["address"] == client.source_ip
                assert socket["handshake"]["query"]["EIO"] == "4" and socket["handshake"]["time"]
            everyone = await _call(asker, "fetch_sockets")
            assert len(everyone["sockets"]) == len(clients)
            assert {s["pid"] for s in everyone["sockets"]} == cluster.pids

    asyncio.run(scenario())


def test_join_leave_and_room_sizes_reach_sockets_on_other_workers(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            room, vip = f"room-{uuid.uuid4()}", f"vip-{uuid.uuid4()}"
            await asyncio.gather(*(c.call("join", room) for c in clients[:10]))
            joined = await _call(clients[-1], "sockets_join", vip, room=room)
            assert joined["count"] == 10 and joined["complete"]
            sizes = await _call(clients[-2], "room_sizes")
            assert sizes["sizes"][room] == 10 and sizes["sizes"][vip] == 10
            assert not any(c.sid in sizes["sizes"] for c in clients), (
                "sockets' own rooms are left out"
            )
            left = await _call(clients[0], "sockets_leave", [vip, room], room=vip, except_rooms=[])
            assert left["count"] == 10
            after = await _call(clients[5], "room_sizes")
            assert room not in after["sizes"] and vip not in after["sizes"]

    asyncio.run(scenario())


def test_an_emit_leaving_a_room_out_reaches_the_others_on_every_worker(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            room, muted = f"room-{uuid.uuid4()}", f"muted-{uuid.uuid4()}"
            await asyncio.gather(*(c.call("join", room) for c in clients))
            await asyncio.gather(*(c.call("join", muted) for c in clients[::3]))
            token = str(uuid.uuid4())
            sent = await _call(
                clients[1], "emit", "news", {"t": token}, room=room, except_rooms=muted
            )
            assert sent["count"] == len(clients) - len(clients[::3]) and sent["complete"]
            expected = [c for c in clients if c not in clients[::3]]
            await wait_until(lambda: all({"t": token} in c.news for c in expected), 10.0, "news")
            assert not any({"t": token} in c.news for c in clients[::3])

    asyncio.run(scenario())


def test_socket_handles_act_on_the_worker_that_holds_the_socket(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            groups = await by_worker(clients)
            pids = list(groups)
            asker, target = groups[pids[0]][0], groups[pids[1]][0]
            room = f"solo-{uuid.uuid4()}"
            await target.call("join", room)
            token = str(uuid.uuid4())
            emitted = await asker.call(
                "act", {"room": room, "method": "emit", "args": ["news", token]}
            )
            assert [r["pid"] for r in emitted["results"]] == [pids[1]]
            await wait_until(lambda: token in target.news, 10.0, "the handle's emit")
            joined = await asker.call("act", {"room": room, "method": "join", "args": ["extra"]})
            assert joined["results"][0]["outcome"]["count"] == 1
            assert joined["results"][0]["outcome"]["asked"] == [pids[1]], "only its worker asked"
            kicked = await asker.call("act", {"room": room, "method": "disconnect", "args": [True]})
            assert kicked["results"][0]["outcome"]["count"] == 1
            await wait_until(lambda: len(target.disconnects) == 1, 10.0, "the disconnect")
            assert target.disconnects == ["server disconnect"], "told, not cut: no reconnect"
            assert all(not c.disconnects for c in clients if c is not target)
            clients.remove(target)

    asyncio.run(scenario())


def test_disconnect_sockets_disconnects_sockets_on_other_workers(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            room = f"doomed-{uuid.uuid4()}"
            doomed = clients[1::4]
            await asyncio.gather(*(c.call("join", room) for c in doomed))
            gone = await _call(clients[0], "disconnect_sockets", room=room)
            assert gone["count"] == len(doomed) and gone["complete"]
            await wait_until(lambda: all(c.disconnects for c in doomed), 10.0, "disconnects")
            assert all(c.disconnects == ["server disconnect"] for c in doomed)
            await _close(doomed)

    asyncio.run(scenario())


def test_server_side_emit_replies_errors_and_silence_name_the_worker(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            groups = await by_worker(clients)
            asker_pid, asker = next(iter(groups.items()))
            others = cluster.pids - {asker_pid}
            pinged = await _call(asker[0], "server_side_emit", "ping", 1, "two")
            assert pinged["complete"] and set(pinged["asked"]) == others
            assert sorted(r["value"]["pid"] for r in pinged["replies"]) == sorted(others)
            assert all(r["value"]["args"] == [1, "two"] for r in pinged["replies"])
            boom = await _call(asker[0], "server_side_emit", "boom")
            assert {r["pid"]: r["error"] for r in boom["replies"]} == {
                pid: f"RuntimeError: boom in {pid}" for pid in others
            }
            assert not boom["complete"]
            hung = await _call(asker[0], "server_side_emit", "hang", timeout=1.0)
            assert hung["replies"] == []
            assert sorted(m["pid"] for m in hung["missing"]) == sorted(others)
            assert {m["reason"] for m in hung["missing"]} == {"no answer within 1s"}
            strict = await _call(asker[0], "server_side_emit", "boom", strict=True)
            assert strict["error"] == "IncompleteResult"

    asyncio.run(scenario())


def test_an_unknown_namespace_is_a_clear_error(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            answer = await _call(clients[0], "fetch_sockets", namespace="/nowhere")
            assert answer == {
                "error": "UnknownNamespace",
                "message": "the server has no namespace '/nowhere'",
            }
            other = await _call(clients[0], "fetch_sockets", namespace="/other")
            assert other["sockets"] == [] and other["complete"]

    asyncio.run(scenario())


def test_a_worker_that_dies_mid_request_is_named_at_once_and_the_rest_answers(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """Over the master the requester hears of the exit, not of its deadline: the reason
    says so (the call's timeout is far longer than the test's bound)."""
    host = sockd(app=APP, workers=3)

    async def scenario() -> None:
        addresses = source_addresses(12)
        opened = [Client(host.port, ip, TRANSPORTS) for ip in addresses]
        try:
            await gather_bounded((c.connect() for c in opened), 12)
            groups = await by_worker(opened)
            assert len(groups) == 3
            (_, askers), (victim_pid, _), (survivor_pid, _) = list(groups.items())
            answer = await _call(askers[0], "server_side_emit", "die", victim_pid, timeout=60)
            assert answer["missing"] == [
                {"pid": victim_pid, "reason": "exited while the request was out"}
            ]
            assert answer["replies"] == [{"pid": survivor_pid, "value": "alive", "error": None}]
        finally:
            await _close(opened)

    asyncio.run(scenario())
    host.wait_for_line("exited unexpectedly")


def test_status_shows_the_clusters_sockets_and_rooms_per_namespace(
    cluster: Cluster, source_addresses: SourceAddresses
) -> None:
    """``sockd status`` of one host counts every worker's sockets (every host's, with Redis)."""

    async def scenario() -> None:
        async with named_clients(cluster, source_addresses(40)) as clients:
            room = f"census-{uuid.uuid4()}"
            await asyncio.gather(*(c.call("join", room) for c in clients[:5]))
            title = f"sockd-{cluster.ports[0]}"
            status = await asyncio.to_thread(sockd_status, "--title", title)
            table = await asyncio.to_thread(run_sockd, "status", "--title", title)
        section = status["cluster"]
        assert section["members"] == 4 and section["missing"] == []
        namespaces = {ns["name"]: ns for ns in section["namespaces"]}
        assert namespaces["/"]["sockets"] == 40 and namespaces["/other"]["sockets"] == 0
        assert [room, 5] in namespaces["/"]["largest_rooms"]
        assert table.returncode == 0, table.stderr
        assert "NAMESPACE" in table.stdout and f"{room} (5)" in table.stdout, table.stdout

    asyncio.run(scenario())


def test_without_redis_a_call_answers_for_its_worker_and_says_the_others_were_not_asked(
    sockd: SockdLauncher, source_addresses: SourceAddresses, tmp_path: Path
) -> None:
    """Redis stopped: no call hangs; each says the others could not be asked. Redis back
    (empty, on the same port): the calls reach every worker again."""
    with running_redis(tmp_path) as redis:
        host = sockd(app=APP, workers=2, redis=redis.url)
        cluster = _started_one(host)

        async def scenario() -> None:
            async with named_clients(cluster, source_addresses(12)) as clients:
                before = await _call(clients[0], "fetch_sockets")
                assert before["complete"] and len(before["sockets"]) == 12
                redis.stop()
                during = await _call(clients[0], "fetch_sockets", timeout=2)
                [missing] = during["missing"]
                assert missing["pid"] is None
                assert missing["reason"].startswith("Redis unreachable, not asked")
                assert {s["pid"] for s in during["sockets"]} == set(during["asked"])
                assert len(during["asked"]) == 1, "only the asking worker answered"
                redis.start()

                async def complete() -> bool:
                    return bool((await _call(clients[0], "fetch_sockets", timeout=2))["complete"])

                for _ in range(40):  # the workers reconnect within seconds (bounded)
                    if await complete():
                        break
                    await asyncio.sleep(0.5)
                after = await _call(clients[0], "fetch_sockets")
                assert after["complete"] and len(after["sockets"]) == 12

        asyncio.run(scenario())


def _started_one(host: SockdProcess) -> Cluster:
    return Cluster([host.port], set(host.slot_pids().values()))
