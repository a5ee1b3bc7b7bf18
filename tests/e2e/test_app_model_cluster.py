"""``app.io.of(ns)`` across 4 workers in an app directory (tests/apps/cluster_eggapp):
members found on every worker by their ``ctx.socket.data``, an emit leaving a room out,
rooms joined and sockets disconnected on other workers, and server-side events."""

from __future__ import annotations

import asyncio

from tests.harness import (
    REPO_ROOT,
    Client,
    SockdLauncher,
    SourceAddresses,
    gather_bounded,
    wait_until,
)

APP = str(REPO_ROOT / "tests" / "apps" / "cluster_eggapp")
WORKERS = 4


def test_the_namespace_spans_every_worker(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app=APP, workers=WORKERS)

    async def scenario() -> None:
        clients = [Client(proc.port, ip, ["websocket"]) for ip in source_addresses(40)]
        try:
            await gather_bounded((c.connect() for c in clients), 12)
            joined = [await c.call("join", (f"n{i}", "crew")) for i, c in enumerate(clients)]
            pids = {answer["pid"] for answer in joined}
            assert len(pids) == WORKERS
            found = await clients[0].call("members", "crew")
            assert found["complete"] and found["pids"] == sorted(pids)
            assert found["names"] == sorted(f"n{i}" for i in range(len(clients)))
            muted = clients[::5]
            assert await clients[1].call("promote", ("crew", "everyone")) == len(clients)
            for client in muted:
                await client.call("join", ("muted-name", "muted"))
            assert await clients[2].call("shout", ("everyone", "muted", "hello")) is True
            heard = [c for c in clients if c not in muted]
            await wait_until(lambda: all("hello" in c.news for c in heard), 10.0, "the shout")
            assert not any("hello" in c.news for c in muted)
            greetings = await clients[3].call("greet_others", "ada")
            assert sorted(g["pid"] for g in greetings) == sorted(pids - {joined[3]["pid"]})
            assert {g["greeting"] for g in greetings} == {"hi ada"}
            assert await clients[4].call("kick", "muted") == len(muted)
            await wait_until(lambda: all(c.disconnects for c in muted), 10.0, "the kicks")
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    asyncio.run(scenario())
