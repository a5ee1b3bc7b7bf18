"""sockd as a container's PID 1: drains on SIGTERM, exits 0, and reaps orphans.

There is no container engine here, so the test does what a container does to its
entrypoint: runs ``sockd start`` as PID 1 of a new PID namespace (``unshare``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal

import psutil
import pytest

from tests.harness import Client, SockdLauncher, SourceAddresses, wait_until, wait_until_sync

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or os.geteuid() != 0,
    reason="needs unshare(1) and root for a new PID namespace",
)


def test_pid1_drains_on_sigterm_and_reaps_orphans(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    wrapper = sockd(
        "--graceful-timeout",
        "10",
        app="tests.apps.orphan_app:app",
        workers=2,
        prefix=["unshare", "--pid", "--fork", "--kill-child"],
    )
    unshare = psutil.Process(wrapper.pid)
    master = unshare.children()[0]
    assert "sockd" in " ".join(master.cmdline())

    # Each worker's startup left a `sleep` whose parent exited: it is now the master's.
    wait_until_sync(
        lambda: sum(p.name() == "sleep" for p in master.children()) == 2, 10.0, "orphans adopted"
    )
    # When they exit, PID 1 must reap them: no zombie may stay behind.
    wait_until_sync(
        lambda: not any(p.name() == "sleep" for p in master.children()), 10.0, "orphans reaped"
    )
    assert all(p.status() != psutil.STATUS_ZOMBIE for p in master.children())

    async def scenario() -> None:
        client = await Client(wrapper.port, source_addresses(1)[0], ["websocket"]).connect()
        try:
            assert await client.call("echo", "hi") == "hi"
            master.send_signal(signal.SIGTERM)
            await wait_until(
                lambda: bool(client.disconnects), 10.0, "the drain to reach the client"
            )
        finally:
            await client.close()

    asyncio.run(scenario())
    assert wrapper.proc.wait(15) == 0, wrapper.output_tail()
