"""kill -9 of a whole host with connection state recovery on: its clients recover their
sessions on the other hosts and miss nothing.

Three hosts beside the package's, with recovery on (a 30 s window; the Streams bus, the
default), on a Redis database and behind a HAProxy of their own (the documented config),
run the scenario of host_loss.py with members on the official JavaScript client
(tests/js/members.js, in the client namespace, each from an address of its own). Every
client of the killed host comes back on another host with the same socket id,
``socket.recovered`` true (the app was told so too) and its room kept without joining it
again, and every member receives every broadcast exactly once and in order, those sent in
the gap included. The time until they were served elsewhere and the loss (none) are
printed; test_host_loss.py prints the same figures without recovery.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.js_recovery import node_binary
from tests.e2e.multihost.clients import Member, close_all, connect_members
from tests.e2e.multihost.cluster import Cluster, Deployment, deployed
from tests.e2e.multihost.host_loss import (
    LOST,
    RECONNECT_BOUND,
    ROOM,
    HostLoss,
    cast,
    kill_under_stream,
    report,
)
from tests.e2e.multihost.js_members import JsMember, js_members
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.network import HOSTS, Network

require_namespaces()

RECOVERY = {"SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION": "30"}
SOCKD_PORT = 7201
FRONTEND_PORT = 8082
REDIS_DB = 2


@pytest.fixture
def recovering(
    network: Network, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """The three hosts with recovery on, behind their own HAProxy, all up."""
    spec = Deployment(tuple(HOSTS), SOCKD_PORT, FRONTEND_PORT, REDIS_DB, env=RECOVERY)
    with deployed(network, spec, tmp_path_factory.mktemp("recovery")) as cluster:
        yield cluster


@pytest.mark.timeout(150)
def test_killed_host_clients_recover_their_sessions_elsewhere(recovering: Cluster) -> None:
    cluster = recovering
    node = node_binary()

    async def scenario() -> tuple[HostLoss, list[JsMember], list[JsMember]]:
        parts = await cast(cluster.net.sources[:300], FRONTEND_PORT)
        sender = Member(parts.sender, port=FRONTEND_PORT)
        sources = [*parts.victims, *parts.survivors]
        try:
            await connect_members([sender])
            async with js_members(cluster.net, node, FRONTEND_PORT, ROOM, sources) as members:
                victims, survivors = members[: len(parts.victims)], members[len(parts.victims) :]
                loss = await kill_under_stream(cluster, victims, survivors, sender)
        finally:
            await close_all([sender])
        return loss, victims, survivors

    loss, victims, survivors = cluster.run(scenario, 120)
    print(report("with connection state recovery", loss, victims, survivors))
    for member in [*victims, *survivors]:
        assert member.news == loss.sent, f"{member!r}: not every broadcast once and in order"
    for member in victims:
        first, *again = member.connects
        assert again, f"{member!r} never connected again"
        for connect in again:
            assert connect.host != LOST and connect.id == first.id, (first, connect)
            assert connect.recovered and connect.app["recovered"], connect
            assert ROOM in connect.app["rooms"], connect
    assert all(len(member.connects) == 1 for member in survivors), survivors
    assert max(loss.gaps.values()) < RECONNECT_BOUND
