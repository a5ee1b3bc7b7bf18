"""A host cut off the network: how long its clients take to be served elsewhere, with and
without HAProxy's ``on-marked-down shutdown-sessions`` (issue 19 asks for the figure).

Two HAProxy processes run side by side in the balancer namespace: the documented config
on port 80 and the same config without ``on-marked-down shutdown-sessions`` on port 8080.
Both check the same hosts, so one cut cable (the host's veth on the bridge set down: no
RST, no FIN, packets just vanish) is measured through both at once. With the action,
HAProxy closes the sessions of the host it marks down and the clients reconnect to another
host; without it, the clients learn nothing until their Engine.IO ping timeout
(pingInterval + pingTimeout: 10 s in the test app, 45 s with the defaults).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.e2e.multihost.clients import (
    Member,
    close_all,
    connect_members,
    distribution,
    sources_by_host,
)
from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.haproxy import config_without_shutdown_sessions, running_haproxy
from tests.e2e.multihost.netns import require_namespaces
from tests.harness import wait_until

require_namespaces()

CUT = "h3"
PLAIN_PORT = 8080
PER_GROUP = 12
#: Generous: the ping timeout of the test app (10 s) plus HAProxy's checks and a retry.
BOUND = 40.0


@pytest.mark.timeout(150)
def test_cut_off_host_clients_move_with_and_without_shutdown_sessions(
    cluster: Cluster, tmp_path: Path
) -> None:
    plain = config_without_shutdown_sessions(PLAIN_PORT)
    with running_haproxy(cluster.net.ns("lb"), tmp_path, plain, PLAIN_PORT) as without:
        for role in cluster.hosts:
            cluster.wait_health(role, "UP", without)

        async def scenario() -> tuple[list[float], list[float]]:
            sources = cluster.net.sources[250:500]
            shut = (await sources_by_host(sources))[CUT][:PER_GROUP]
            kept = (await sources_by_host(sources, PLAIN_PORT))[CUT][-PER_GROUP:]
            assert len(shut) == len(kept) == PER_GROUP and not set(shut) & set(kept)
            with_action = [Member(ip, ["any"]) for ip in shut]
            without_action = [Member(ip, ["any"], port=PLAIN_PORT) for ip in kept]
            members = with_action + without_action
            try:
                await connect_members(members)
                assert {m.served_by for m in members} == {CUT}
                cut_at = time.monotonic()
                await asyncio.to_thread(cluster.net.set_link, CUT, False)
                await wait_until(
                    lambda: all(m.served_elsewhere_after(cut_at, CUT) for m in members),
                    BOUND,
                    "every client of the cut host served elsewhere",
                )
                return _gaps(with_action, cut_at), _gaps(without_action, cut_at)
            finally:
                await close_all(members)
                await asyncio.to_thread(cluster.net.set_link, CUT, True)

        with_gaps, without_gaps = cluster.run(scenario, 120)
    print(
        f"\n{CUT} cut off: its clients served elsewhere after"
        f"\n  with on-marked-down shutdown-sessions:    {distribution(with_gaps)}"
        f"\n  without (ping timeout 10 s in this test): {distribution(without_gaps)}"
    )
    assert max(with_gaps + without_gaps) < BOUND


def _gaps(members: list[Member], since: float) -> list[float]:
    return [m.served_elsewhere_after(since, CUT) or 0.0 for m in members]
