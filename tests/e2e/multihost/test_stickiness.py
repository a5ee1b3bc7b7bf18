"""Long-polling through HAProxy: every request of every session meets its session.

Each session opens a new TCP connection per request, so HAProxy picks the host and the
host's master picks the worker for every single request; not one may answer "unknown
session" (HTTP 400), and each session stays on one host.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.multihost.cluster import Cluster
from tests.e2e.multihost.netns import require_namespaces
from tests.e2e.multihost.polling import PollingOutcome, PollingSession
from tests.harness import gather_bounded

require_namespaces()

SESSIONS = 90
ROUNDS = 5


@pytest.mark.timeout(120)
def test_long_polling_sessions_stay_on_their_host_and_worker(cluster: Cluster) -> None:
    sources = cluster.net.sources[200 : 200 + SESSIONS]

    async def scenario() -> list[PollingOutcome]:
        return await gather_bounded((PollingSession(ip).run(ROUNDS) for ip in sources), 16)

    outcomes = cluster.run(scenario, 100)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert not errors, errors[:3]
    failures = [(o.source, f) for o in outcomes for f in o.failures]
    requests = sum(o.requests for o in outcomes)
    per_host = Counter(next(iter(o.hosts)) for o in outcomes if len(o.hosts) == 1)
    print(
        f"\n{SESSIONS} polling sessions, {requests} requests (each a new connection), "
        f"{len(failures)} failed; sessions per host {dict(sorted(per_host.items()))}"
    )
    assert failures == [], failures[:5]
    assert all(len(o.hosts) == 1 for o in outcomes), [o.hosts for o in outcomes]
    assert set(per_host) == set(cluster.hosts), per_host
