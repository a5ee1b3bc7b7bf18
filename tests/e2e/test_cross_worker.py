"""Rooms, broadcasts, calls, close_room and disconnect work across workers, on both buses.

Clients are spread over source addresses so that they land on different workers; each test
checks with ``whoami`` that the clients it relies on really are on different workers.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Sequence

import pytest

from tests.harness import (
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    by_worker,
    open_clients,
    wait_until,
)

WORKERS = 3
CLIENTS = 12
TRANSPORTS = ["websocket"]


@pytest.fixture(scope="module", params=["ipc", "redis-streams", "redis-pubsub"])
def cluster(request: pytest.FixtureRequest, sockd_module: SockdLauncher) -> SockdProcess:
    """A 3-worker cluster sharing rooms over the master (ipc) or a real redis-server, with
    either Redis bus."""
    if request.param == "ipc":
        return sockd_module(workers=WORKERS, sticky=True)
    redis = request.getfixturevalue("redis_server")
    bus = request.param.removeprefix("redis-")
    return sockd_module(workers=WORKERS, sticky=True, redis=redis, redis_bus=bus)


def _count(client: Client, token: str) -> int:
    return sum(1 for item in client.news if isinstance(item, dict) and item.get("t") == token)


async def _join(clients: Sequence[Client], room: str) -> None:
    acks = await asyncio.gather(*(c.call("join", room) for c in clients))
    assert all(ack["room"] == room for ack in acks), acks


async def _fence(sender: Client, room: str, members: Sequence[Client]) -> None:
    """Broadcast a marker and wait until every member has it: earlier sends are in by then."""
    token = f"fence-{uuid.uuid4()}"
    assert await sender.call("broadcast", {"room": room, "payload": {"t": token}}) is True
    await wait_until(lambda: all(_count(c, token) >= 1 for c in members), 10.0, f"fence {token}")
    await asyncio.sleep(0.2)  # a short, bounded look for stragglers after the fence


async def _spread(clients: Sequence[Client]) -> dict[int, list[Client]]:
    groups = await by_worker(clients)
    assert len(groups) >= 2, f"{len(clients)} clients all landed on one worker: {groups}"
    return groups


def test_broadcast_reaches_every_member_on_every_worker_exactly_once(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """A broadcast from any worker reaches each room member once, and no outsider."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            groups = await _spread(clients)
            # One outsider per worker that has two clients; everyone else joins.
            outsiders = [group[0] for group in groups.values() if len(group) >= 2]
            members = [c for c in clients if c not in outsiders]
            assert len({pid for pid, g in groups.items() for c in g if c in members}) >= 2
            room = f"room-{uuid.uuid4()}"
            await _join(members, room)
            senders = [
                next(c for c in group if c in members)
                for group in groups.values()
                if any(c in members for c in group)
            ]
            tokens = []
            for sender in senders:  # one sender on each worker
                token = f"news-{uuid.uuid4()}"
                tokens.append(token)
                ack = await sender.call("broadcast", {"room": room, "payload": {"t": token}})
                assert ack is True
            await wait_until(
                lambda: all(_count(c, t) >= 1 for c in members for t in tokens),
                10.0,
                "every member to receive every broadcast",
            )
            await _fence(senders[0], room, members)
            counts = {(c.source_ip, t): _count(c, t) for c in members for t in tokens}
            wrong = {key: n for key, n in counts.items() if n != 1}
            assert wrong == {}, f"deliveries that were not exactly one: {wrong}"
            leaked = [(c.source_ip, c.news) for c in outsiders if c.news]
            assert leaked == [], f"clients outside the room received: {leaked}"

    asyncio.run(scenario())


def test_call_to_a_client_on_another_worker_returns_its_answer(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """``sio.call(..., to=sid)`` from worker A to a client on worker B gets B's ack back."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            groups = await _spread(clients)
            (_, group_a), (_, group_b) = list(groups.items())[:2]
            asker, answerer = group_a[0], group_b[0]
            for one, other in ((asker, answerer), (answerer, asker)):
                question = f"q-{uuid.uuid4()}"
                answer = await one.call("ask", {"sid": other.sid, "question": question})
                assert answer == {"answer": f"{question}!", "sid": other.sid}, (
                    f"ask from worker of {one!r} to {other!r} returned {answer!r}"
                )
                assert question in other.questions
                assert question not in one.questions

    asyncio.run(scenario())


def test_close_room_empties_the_room_on_every_worker(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """Once close_room has reached every worker, a broadcast to the room reaches nobody."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            groups = await _spread(clients)
            room, control = f"closing-{uuid.uuid4()}", f"control-{uuid.uuid4()}"
            await _join(clients, room)
            await _join(clients, control)
            # The room works before it is closed (so "nobody" below means something).
            await _fence(clients[0], room, clients)
            # Close it from a client on a different worker than the one that will send.
            closer = next(iter(groups.values()))[0]
            sender = list(groups.values())[1][0]
            assert await closer.call("close_room", room) is True
            # The bus is asynchronous (as Redis adapters are): the close reaches the other
            # workers shortly after the ack. It is ordered per worker, so a fence from the
            # closer's worker tells when every worker has applied it.
            await _fence(closer, control, clients)
            token = f"after-close-{uuid.uuid4()}"
            assert await sender.call("broadcast", {"room": room, "payload": {"t": token}})
            # The control broadcast goes the same way after it: once it is everywhere,
            # the closed-room one would have arrived too.
            await _fence(sender, control, clients)
            got = [c.source_ip for c in clients if _count(c, token)]
            assert got == [], f"clients that still got a broadcast to the closed room: {got}"

    asyncio.run(scenario())


def test_disconnect_of_a_client_on_another_worker(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """``sio.disconnect(sid)`` on worker A disconnects the client held by worker B."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            groups = await _spread(clients)
            (_, group_a), (_, group_b) = list(groups.items())[:2]
            kicker, victim = group_a[0], group_b[0]
            victim_sid = victim.sid
            assert await kicker.call("kick", {"sid": victim_sid}) is True
            await wait_until(lambda: len(victim.disconnects) >= 1, 10.0, f"{victim!r} kicked")
            assert kicker.connected and kicker.disconnects == []
            assert await kicker.call("echo", "still here") == "still here"
            bystanders = [c for c in clients if c is not victim]
            assert all(c.disconnects == [] for c in bystanders)

    asyncio.run(scenario())


@pytest.mark.timeout(120)
def test_one_megabyte_broadcast_arrives_intact_on_another_worker(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """A 1 MiB payload crosses the bus (IPC or Redis) unchanged."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            groups = await _spread(clients)
            (_, group_a), (_, group_b) = list(groups.items())[:2]
            sender, receiver = group_a[0], group_b[0]
            room = f"big-{uuid.uuid4()}"
            await _join([receiver], room)
            blob = os.urandom(512 * 1024).hex()  # 1,048,576 characters
            token = f"big-{uuid.uuid4()}"
            payload = {"t": token, "blob": blob}
            ack = await sender.call("broadcast", {"room": room, "payload": payload}, timeout=30)
            assert ack is True
            await wait_until(lambda: _count(receiver, token) >= 1, 30.0, "the 1 MiB broadcast")
            received = next(item for item in receiver.news if item.get("t") == token)
            assert len(received["blob"]) == len(blob)
            assert received["blob"] == blob

    asyncio.run(scenario())


def test_binary_broadcast_arrives_intact_on_another_worker(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """Bytes in a broadcast (attachments, sent as the library sends them) cross the bus."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            groups = await _spread(clients)
            (_, group_a), (_, group_b) = list(groups.items())[:2]
            sender, receiver = group_a[0], group_b[0]
            room = f"binary-{uuid.uuid4()}"
            await _join([sender, receiver], room)
            token, blob = f"bin-{uuid.uuid4()}", os.urandom(4096)
            payload = {"t": token, "blob": blob}
            assert await sender.call("broadcast", {"room": room, "payload": payload})
            for member in (sender, receiver):
                await wait_until(lambda m=member: _count(m, token) >= 1, 10.0, "the broadcast")
                got = next(item for item in member.news if item.get("t") == token)
                assert got["blob"] == blob

    asyncio.run(scenario())


def test_broadcasts_arrive_in_send_order_on_every_worker(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """Many broadcasts in flight from one sender reach each member in the order sent."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            await _spread(clients)
            room = f"room-{uuid.uuid4()}"
            await _join(clients, room)
            token = f"order-{uuid.uuid4()}"
            sender = clients[0]
            sends = 100
            acks = await asyncio.gather(
                *(
                    sender.call("broadcast", {"room": room, "payload": {"t": token, "n": n}})
                    for n in range(sends)
                )
            )
            assert all(acks)
            await wait_until(
                lambda: all(_count(c, token) == sends for c in clients), 10.0, "every broadcast"
            )
            orders = {
                c.source_ip: [m["n"] for m in c.news if isinstance(m, dict) and m.get("t") == token]
                for c in clients
            }
            wrong = {ip: seq for ip, seq in orders.items() if seq != sorted(seq)}
            assert wrong == {}, f"members that got broadcasts out of order: {wrong}"

    asyncio.run(scenario())


def test_many_senders_at_once_each_reach_everyone_once_in_order(
    cluster: SockdProcess, source_addresses: SourceAddresses
) -> None:
    """Every client broadcasts at once (bus messages queue and go out in batches): each
    member gets every broadcast exactly once, and each sender's in the order sent."""

    async def scenario() -> None:
        async with open_clients(cluster.port, source_addresses(CLIENTS), TRANSPORTS) as clients:
            await _spread(clients)
            room = f"room-{uuid.uuid4()}"
            await _join(clients, room)
            token, sends = f"many-{uuid.uuid4()}", 40

            async def burst(index: int, sender: Client) -> list[bool]:
                return await asyncio.gather(
                    *(
                        sender.call(
                            "broadcast",
                            {"room": room, "payload": {"t": token, "from": index, "n": n}},
                        )
                        for n in range(sends)
                    )
                )

            acks = await asyncio.gather(*(burst(i, c) for i, c in enumerate(clients)))
            assert all(all(one) for one in acks)
            total = sends * len(clients)
            await wait_until(
                lambda: all(_count(c, token) >= total for c in clients), 20.0, "every broadcast"
            )
            await asyncio.sleep(0.2)  # a short, bounded look for duplicates
            for member in clients:
                got = [m for m in member.news if isinstance(m, dict) and m.get("t") == token]
                assert len(got) == total, f"{member!r} got {len(got)} of {total}"
                for index in range(len(clients)):
                    order = [m["n"] for m in got if m["from"] == index]
                    assert order == list(range(sends)), f"{member!r} from {index}: {order}"

    asyncio.run(scenario())
