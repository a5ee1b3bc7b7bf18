"""A worker at its descriptor limit: its new clients go to the next worker, none is lost.

sockd runs under ``prlimit --nofile=256`` (what ``LimitNOFILE=256`` does to a service).
Silent connections, which no worker closes yet (there is no header-read timeout), are
opened from one address until worker 1 would be out of descriptors; then 20 other
clients whose addresses hash to worker 1 connect. Each must be served (by worker 0, the
next in their rendezvous order), the master must log the cause once, and no process may
exit. Without the reserve the kernel drops the hand-offs it cannot deliver
(``MSG_CTRUNC``), and those clients are refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import psutil
import pytest

from tests.harness import (
    OPS_APP,
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    gather_bounded,
    wait_until_sync,
    worker_map,
)

LIMIT = 256
#: More than the worker could hold: it would be at its limit well before the last one.
SILENT = 300
CLIENTS = 20


def _addresses_of(proc: SockdProcess, candidates: list[str], pid: int, count: int) -> list[str]:
    """``count`` of ``candidates`` whose new connections reach the worker ``pid``."""
    pids = asyncio.run(worker_map(proc.port, candidates))
    chosen = [address for address in candidates if pids[address] == pid][:count]
    assert len(chosen) == count, f"{len(chosen)} of {len(candidates)} addresses reach {pid}"
    return chosen


def _open_silent(port: int, source: str, count: int) -> list[socket.socket]:
    """``count`` connections that never send a byte."""
    sockets = []
    for _ in range(count):
        sockets.append(socket.create_connection(("127.0.0.1", port), 5, (source, 0)))
    return sockets


async def _served(port: int, sources: list[str]) -> list[int | BaseException]:
    """The pid of the worker that served each client (a Socket.IO session and an ack)."""

    async def one(source: str) -> int:
        client = Client(port, source, ["polling", "websocket"], reconnection=False)
        try:
            await client.connect(timeout=15)
            return int((await client.whoami())["pid"])
        finally:
            await client.close()

    return await gather_bounded((one(source) for source in sources), 10)


def _settle(worker: psutil.Process) -> int:
    """The worker's descriptor count once it stops changing (hand-offs all arrived)."""
    last, stable = -1, 0
    deadline = time.monotonic() + 15
    while stable < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
        now = worker.num_fds()
        stable = stable + 1 if now == last else 0
        last = now
    return last


@pytest.mark.timeout(180)
def test_clients_of_a_worker_at_its_descriptor_limit_go_to_the_next(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app=OPS_APP, workers=2, prefix=("prlimit", f"--nofile={LIMIT}:{LIMIT}"))
    pids = proc.slot_pids()
    workers = {slot: psutil.Process(pid) for slot, pid in pids.items()}
    assert workers[1].rlimit(psutil.RLIMIT_NOFILE) == (LIMIT, LIMIT)
    silent_source, *sources = _addresses_of(proc, source_addresses(150), pids[1], 1 + CLIENTS)
    mark = proc.line_count()

    silent = _open_silent(proc.port, silent_source, SILENT)
    try:
        held = _settle(workers[1])
        results = asyncio.run(_served(proc.port, sources))
        served = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if not isinstance(r, int)]
        print(
            f"worker 1 holds {held} of {LIMIT} descriptors; {len(served)} of {CLIENTS} "
            f"clients served, {len(refused)} refused"
        )
        assert not refused, f"{len(refused)} of {CLIENTS} refused; first: {refused[0]!r}"
        assert set(served) == {pids[0]}, "the next worker in their order serves them"
        assert held < LIMIT, "the worker kept a reserve"
    finally:
        for sock in silent:
            with contextlib.suppress(OSError):
                sock.close()

    line = proc.wait_for_line("at its descriptor limit", 10, mark)
    assert f"worker 1 is at its descriptor limit ({LIMIT})" in line, line
    assert "its new clients go to the next worker" in line, line
    log = proc.lines()[mark:]
    assert sum("at its descriptor limit" in entry for entry in log) == 1, "logged once"
    assert not [entry for entry in log if "bad hand-off" in entry or "exited" in entry]
    assert all(worker.is_running() for worker in workers.values())

    # Back below the mark (the silent connections closed), worker 1 takes clients again.
    wait_until_sync(
        lambda: any("takes new connections again" in entry for entry in proc.lines()[mark:]),
        15,
        "worker 1 taking connections again",
    )
    again = asyncio.run(_served(proc.port, sources[:3]))
    assert again == [pids[1]] * 3, again
