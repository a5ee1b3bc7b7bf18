"""The watchdog: a handler that blocks its event loop gets its worker killed and replaced
after ``--timeout`` seconds without a heartbeat; an idle worker keeps beating and is left
alone, however long it has nothing to do.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.harness import (
    OPS_APP,
    SockdLauncher,
    SourceAddresses,
    connect_client,
    log_time,
    sockd_status,
    wait_until,
)

TIMEOUT = 3.0
#: Heartbeats go out once a second, so the last one can be up to that much older.
HEARTBEAT_INTERVAL = 1.0
TITLE = "watchdog-test"

pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.mark.timeout(90)
def test_blocked_loop_is_replaced_and_idle_worker_is_not(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    proc = sockd("--title", TITLE, "--timeout", str(TIMEOUT), app=OPS_APP, workers=2)
    slots = proc.slot_pids()

    async def block_one() -> tuple[int, int]:
        """Block the loop of the worker serving one client; its (slot, replacement pid)."""
        client = await connect_client(proc.port, source_addresses(1)[0], ["websocket"])
        try:
            victim_pid = (await client.whoami())["pid"]
            victim = next(slot for slot, pid in slots.items() if pid == victim_pid)
            mark = proc.line_count()
            blocked_at = time.time()
            await client.sio.emit("block", 120)  # the ack never comes: the loop is stuck
            killed = await asyncio.to_thread(
                proc.wait_for_line,
                f"worker {victim} (pid {victim_pid}) missed heartbeats",
                TIMEOUT + 30.0,
                mark,
            )
            # Not before its time: the last heartbeat left at most a second before the block.
            assert log_time(killed) - blocked_at >= TIMEOUT - HEARTBEAT_INTERVAL - 0.2
            ready = await asyncio.to_thread(
                proc.wait_for_match, rf"worker {victim} ready \(pid (\d+)\)", 30.0, mark
            )
            new_pid = int(ready.group(1))
            await wait_until(
                lambda: client.connects >= 2 and client.connected, 30.0, "the client back"
            )
            assert (await client.whoami())["pid"] == new_pid
            return victim, new_pid
        finally:
            await client.close()

    victim, new_pid = asyncio.run(block_one())
    # Both workers now sit idle for twice the timeout: neither may be taken for stuck.
    time.sleep(2 * TIMEOUT)
    kills = [line for line in proc.lines() if "missed heartbeats" in line]
    assert len(kills) == 1, kills
    status = sockd_status("--title", TITLE)
    serving = {row["slot"]: row["pid"] for row in status["workers"] if row["serving"]}
    assert serving == {**slots, victim: new_pid}
    restarts = {row["slot"]: row["restarts"] for row in status["workers"]}
    assert restarts == {slot: int(slot == victim) for slot in slots}
