"""fetch_sockets latency over a whole cluster: ``python -m bench.cluster_fetch``.

Starts sockd with N workers (``bench/cluster_app.py``) over the IPC bus and over each Redis
bus (a private redis-server), opens K idle WebSocket sessions from many 127.x source
addresses with the thin load generator (bounded in time), then has one client ask its
worker for every socket of the cluster, ``--rounds`` times: the worker's own timing of the
call (request out, every worker's answer in, handles built) and the client's round trip.
It asserts nothing; on a shared or small machine, compare the buses within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.loadgen.addresses import source_address
from bench.loadgen.pool import open_sessions
from bench.loadgen.ws_session import WsSession, close_all
from bench.procs import free_port, process_group, wait_for
from bench.redis_server import start_redis
from bench.systems import probe

START_TIMEOUT = 60.0
#: Seconds the sessions may take to open, all together.
OPEN_BOUND = 300.0


@contextmanager
def sockd(workers: int, bus: str, tmp: Path) -> Iterator[int]:
    """A running sockd (and its Redis); yields its port; everything stopped at the end."""
    with process_group() as group:
        extra: list[str] = []
        env: dict[str, str] = {}
        if bus != "ipc":
            url, _ = start_redis(group, tmp)
            extra = ["--redis", url]
            env = {"SOCKD_IO_REDIS_BUS": bus.removeprefix("redis-")}
        port, log = free_port(), tmp / f"sockd-{bus}.log"
        command = [
            sys.executable, "-m", "sockd", "start", "bench.cluster_app:sio",
            "--workers", str(workers), "--sticky", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--graceful-timeout", "1", *extra,
        ]  # fmt: skip
        process = group.spawn(command, log, env)
        wait_for(lambda: probe(port), f"sockd {bus}", START_TIMEOUT, process, log)
        yield port


async def measure(port: int, sessions: int, rounds: int) -> dict[str, Any]:
    started = time.monotonic()
    async with asyncio.timeout(OPEN_BOUND):
        opened, errors = await open_sessions(port, sessions, offer_deflate=False, timeout=30.0)
    open_seconds = time.monotonic() - started
    asker = await WsSession.open(port, source_address(sessions + 1), offer_deflate=False)
    calls, trips = [], []
    try:
        for _ in range(rounds):
            sent = time.perf_counter()
            [answer] = await asyncio.wait_for(asker.call("fetch", {"limit": sessions * 2}), 60)
            trips.append(time.perf_counter() - sent)
            calls.append(answer)
    finally:
        await close_all([*opened, asker])
    return {
        "opened": len(opened),
        "open_errors": len(errors),
        "open_seconds": open_seconds,
        "calls": calls,
        "trips": trips,
    }


def report(bus: str, result: dict[str, Any]) -> str:
    seconds = [call["seconds"] * 1000 for call in result["calls"]]
    trips = [trip * 1000 for trip in result["trips"]]
    found = {call["sockets"] for call in result["calls"]}
    incomplete = [call["shortfall"] for call in result["calls"] if not call["complete"]]
    return (
        f"{bus:14} sessions {result['opened']} (+1 asking; {result['open_errors']} failed, "
        f"opened in {result['open_seconds']:.0f}s); fetched {sorted(found)} from "
        f"{result['calls'][0]['workers']} workers; in the worker median "
        f"{statistics.median(seconds):.0f} ms (min {min(seconds):.0f}, max {max(seconds):.0f}); "
        f"round trip median {statistics.median(trips):.0f} ms"
        + (f"; INCOMPLETE: {incomplete}" if incomplete else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--buses", default="ipc,redis-streams,redis-pubsub")
    options = parser.parse_args()
    for bus in options.buses.split(","):
        with (
            tempfile.TemporaryDirectory(prefix="sockd-bench-") as tmp,
            sockd(options.workers, bus, Path(tmp)) as port,
        ):
            result = asyncio.run(measure(port, options.sessions, options.rounds))
        print(report(bus, result), flush=True)


if __name__ == "__main__":
    main()
