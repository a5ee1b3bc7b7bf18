"""The master's limits on a real sockd: ``--max-per-address`` and ``--max-pending``.

Per address, connections count from their hand-off until the worker reports them closed:
past the limit the master closes new ones from that address (one log line for all of
them, then a count), others are served, and once some close the address may connect
again. At ``--max-pending`` the master stops accepting: silent connections in the peek
hold it at the cap, its descriptors stay bounded, clients wait in the listen backlog and
are served once the peeks time out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

import pytest

from tests.harness import (
    OPS_APP,
    SockdLauncher,
    SourceAddresses,
    wait_until_sync,
    worker_pid_for,
)

GET_PID = b"GET /pid HTTP/1.1\r\nHost: sockd\r\nConnection: close\r\n\r\n"


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _answer(port: int, source: str) -> bytes:
    """What ``GET /pid`` from ``source`` gets: the response, or b"" when it was closed."""
    with socket.create_connection(("127.0.0.1", port), 5, (source, 0)) as sock:
        try:
            sock.sendall(GET_PID)
            chunks = []
            while chunk := sock.recv(4096):
                chunks.append(chunk)
        except ConnectionResetError:
            return b""
    return b"".join(chunks)


@pytest.mark.timeout(90)
def test_per_address_limit_closes_what_is_over_and_counts_until_the_close(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd("--max-per-address", "5", app=OPS_APP, workers=2)
    client, other = source_addresses(2)
    mark = proc.line_count()
    held = [socket.create_connection(("127.0.0.1", proc.port), 5, (client, 0))
            for _ in range(5)]  # fmt: skip
    try:
        refused = [_answer(proc.port, client) for _ in range(20)]
        assert refused == [b""] * 20, "the sixth and later are closed unanswered"
        assert _answer(proc.port, other).startswith(b"HTTP/1.1 200"), "others are served"
        for sock in held[:2]:
            sock.close()
        # The worker reports the two closes; then two connections fit again.
        wait_until_sync(
            lambda: _answer(proc.port, client).startswith(b"HTTP/1.1 200"),
            10,
            "a connection from the address after two of its five closed",
        )
    finally:
        for sock in held:
            sock.close()
    first = proc.wait_for_line("--max-per-address 5", 5, mark)
    assert f"closing connection from {client}: it has 5 open (--max-per-address 5)" in first
    summary = proc.wait_for_match(
        r"closed (\d+) more connections over --max-per-address 5 in the last 10s", 15, mark
    )
    # 19 of the 20 above, and any tried before the worker's close report arrived.
    assert int(summary[1]) >= 19, summary.string
    lines = [line for line in proc.lines()[mark:] if "--max-per-address" in line]
    assert len(lines) == 2, lines


@pytest.mark.timeout(90)
def test_at_max_pending_the_master_stops_accepting_and_its_descriptors_stay_bounded(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd(
        "--sticky-key", "sid", "--max-pending", "20", "--peek-timeout", "2",
        app=OPS_APP, workers=1,
    )  # fmt: skip
    *silent_sources, client = source_addresses(61)
    baseline = _fds(proc.pid)
    mark = proc.line_count()
    silent: list[socket.socket] = []
    try:
        for source in silent_sources:  # connect() completes in the kernel: the backlog holds
            silent.append(socket.create_connection(("127.0.0.1", proc.port), 5, (source, 0)))
        proc.wait_for_line("not accepting until it holds fewer", 5, mark)
        peak = baseline
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            peak = max(peak, _fds(proc.pid))
            time.sleep(0.05)
        print(f"master fds: {baseline} at rest, at most {peak} with 60 silent clients")
        assert peak <= baseline + 20 + 2, "no more than the cap held"
        # Behind the silent ones in the backlog, a client is served once their peeks end.
        pid = asyncio.run(worker_pid_for(proc.port, client, timeout=20))
        assert pid in proc.slot_pids().values()
    finally:
        for sock in silent:
            with contextlib.suppress(OSError):
                sock.close()
    wait_until_sync(lambda: _fds(proc.pid) <= baseline, 10, "the master's fds back at rest")
    line = proc.wait_for_line("--max-pending 20", 1, mark)
    assert "the master holds 20 connections not handed to a worker yet" in line
    summary = proc.wait_for_line("reached --max-pending", 15, mark)
    assert "more times in the last 10s" in summary
