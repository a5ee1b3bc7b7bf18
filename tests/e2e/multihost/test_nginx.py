"""The nginx stream equivalent (docs/nginx/multi-host.conf) in front of the same hosts.

Clients spread over every host, long-polling sessions keep meeting their session, and when
a host is killed its clients are served by the others: nginx's passive checks skip a host
that refuses a connection and try the next one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
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
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.nginx import running_nginx
from tests.e2e.multihost.polling import PollingSession
from tests.harness import gather_bounded, wait_until

require_namespaces()

PORT = 8081
SESSIONS = 45
LOST = "h2"
VICTIMS = 12


@pytest.mark.timeout(150)
def test_nginx_spreads_keeps_sessions_and_replaces_a_lost_host(
    cluster: Cluster, tmp_path: Path
) -> None:
    async def scenario() -> tuple[Counter[str], int, list[float]]:
        groups = await sources_by_host(cluster.net.sources[:300], PORT)
        assert set(groups) == set(cluster.hosts), "every host gets clients"
        polled = cluster.net.sources[300 : 300 + SESSIONS]
        outcomes = await gather_bounded((PollingSession(ip, PORT).run(3) for ip in polled), 16)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        assert not errors, errors[:3]
        failures = [f for o in outcomes for f in o.failures]
        assert failures == [], failures[:5]
        assert all(len(o.hosts) == 1 for o in outcomes)
        requests = sum(o.requests for o in outcomes)

        victims = [Member(ip, port=PORT) for ip in groups[LOST][:VICTIMS]]
        try:
            await connect_members(victims)
            killed_at = await asyncio.to_thread(cluster.hosts[LOST].kill9)
            await wait_until(
                lambda: all(m.served_elsewhere_after(killed_at, LOST) for m in victims),
                30,
                "every client of the killed host served elsewhere",
            )
            gaps = [m.served_elsewhere_after(killed_at, LOST) or 0.0 for m in victims]
        finally:
            await close_all(victims)
        return Counter({h: len(s) for h, s in groups.items()}), requests, gaps

    with running_nginx(cluster.net, tmp_path, PORT):
        spread, requests, gaps = cluster.run(scenario, 120)
    print(
        f"\nnginx: 300 sources over hosts {dict(sorted(spread.items()))}; {SESSIONS} polling "
        f"sessions, {requests} requests, 0 failed; kill -9 of {LOST}: its clients served "
        f"elsewhere after {distribution(gaps)}"
    )
