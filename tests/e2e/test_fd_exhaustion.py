"""Out of file descriptors, the master backs off instead of spinning, and recovers.

The master's descriptor limit is lowered (prlimit) while its only worker is still
starting, so accepted connections pile up in the master until accept() fails
with EMFILE. The master must log it, not burn a CPU retrying, and serve every
waiting client once the worker is ready.
"""

from __future__ import annotations

import resource
import socket
import time

import psutil
import pytest

from tests.harness import SockdLauncher, SourceAddresses, wait_until_sync

CLIENTS = 30
HANDSHAKE = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\n\r\n"


def test_emfile_backs_off_and_recovers(
    sockd: SockdLauncher, monkeypatch: pytest.MonkeyPatch, source_addresses: SourceAddresses
) -> None:
    monkeypatch.setenv("SLOW_START_SECONDS", "3")
    server = sockd(app="tests.apps.slow_start_app:app", workers=1, wait_ready=False)
    server.wait_for_line("worker 0 started", timeout=15)
    master = psutil.Process(server.pid)
    limit = master.num_fds() + 6
    master.rlimit(resource.RLIMIT_NOFILE, (limit, limit))

    clients = []
    try:
        for source in source_addresses(CLIENTS):
            sock = socket.create_connection(
                ("127.0.0.1", server.port), timeout=20, source_address=(source, 0)
            )
            sock.sendall(HANDSHAKE)
            clients.append(sock)
        server.wait_for_line("accept failed", timeout=10)
        before = master.cpu_times()
        time.sleep(1.0)
        after = master.cpu_times()
        busy = (after.user + after.system) - (before.user + before.system)
        assert busy < 0.5, f"the master spun at EMFILE: {busy:.2f}s of CPU in 1s"

        server.wait_for_line("worker 0 ready", timeout=20)
        for sock in clients:
            head = sock.recv(4096)
            assert head.startswith(b"HTTP/1.1 200"), head[:100]
    finally:
        for sock in clients:
            sock.close()
    wait_until_sync(lambda: master.num_fds() < limit - 3, 10.0, "master fds released")
