"""``--health``: the answer load balancers check, through a boot, a reload, a crash and a stop.

A thread asks ``/health`` every 20 ms and records each answer, so the tests see every
transition: 503 until the (slow) app's worker is ready, 200 all through a reload of the
only worker (its successor serves before it drains), 503 while the only worker restarts
after a kill, 503 from the moment a stop begins until the master is gone, and with
``--redis`` 503 while Redis is away.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_metrics import scrape, total
from tests.harness import (
    Client,
    RedisServer,
    SockdLauncher,
    SourceAddresses,
    run_sockd,
    wait_until_sync,
)

SLOW_APP = "tests.apps.slow_start_app:app"


def ask(port: int) -> tuple[int, dict[str, Any]] | None:
    """(status, body) of /health, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None


class Watcher:
    """Asks /health in a thread; ``answers`` holds (status, state) changes, in order."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: list[tuple[int, str] | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            answer = ask(self.port)
            seen = (answer[0], answer[1]["status"]) if answer else None
            if not self.answers or self.answers[-1] != seen:
                self.answers.append(seen)
            self._stop.wait(0.02)

    @property
    def last(self) -> tuple[int, str] | None:
        return self.answers[-1] if self.answers else None

    def stop(self) -> list[tuple[int, str] | None]:
        self._stop.set()
        self._thread.join(5)
        return self.answers


@pytest.fixture
def watch() -> Iterator[list[Watcher]]:
    watchers: list[Watcher] = []
    try:
        yield watchers
    finally:
        for watcher in watchers:
            watcher.stop()


@pytest.mark.timeout(60)
def test_503_until_the_workers_are_ready_then_200(
    sockd: SockdLauncher, free_port: Any, watch: list[Watcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOW_START_SECONDS", "2")
    health = free_port()
    watch.append(watcher := Watcher(health))
    proc = sockd("--health", f"127.0.0.1:{health}", app=SLOW_APP, workers=2, wait_ready=False)
    proc.wait_ready(30)
    wait_until_sync(lambda: watcher.last == (200, "serving"), 5, "200 once ready")
    answers = [a for a in watcher.stop() if a is not None]
    assert answers == [(503, "starting"), (200, "serving")], answers
    assert ask(health) == (
        200,
        {
            "status": "serving", "ready_workers": 2, "workers": 2,
            "bus": {"0": "connected", "1": "connected"},  # the master's bus is always there
        },
    )  # fmt: skip


@pytest.mark.timeout(90)
def test_200_through_a_reload_503_while_the_only_worker_restarts_and_from_the_stop(
    sockd: SockdLauncher, source_addresses: SourceAddresses, free_port: Any, watch: list[Watcher]
) -> None:
    health = free_port()
    proc = sockd("--health", f"127.0.0.1:{health}", workers=1, graceful_timeout=4)
    watch.append(watcher := Watcher(health))
    wait_until_sync(lambda: watcher.answers == [(200, "serving")], 5, "serving")
    reloaded = run_sockd("reload", timeout=60)
    assert reloaded.returncode == 0, reloaded.stderr
    assert watcher.answers == [(200, "serving")], "the successor served before the old drained"

    os.kill(proc.slot_pids()[0], signal.SIGKILL)
    wait_until_sync(lambda: len(watcher.answers) >= 3, 20, "the restart to show")
    assert watcher.answers[1:3] == [(503, "no worker ready"), (200, "serving")]

    async def stop_with_a_client() -> float:
        """Stop while a client is connected (the drain has a session to end); seconds the
        master took to exit."""
        client = await Client(proc.port, source_addresses(1)[0], ["websocket"]).connect()
        try:
            stopped_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.proc.wait, 30) == 0
            return time.monotonic() - stopped_at
        finally:
            await client.close()

    took = asyncio.run(stop_with_a_client())
    answers = watcher.stop()
    assert answers[3:] == [(503, "stopping"), None], answers
    print(f"\n/health answered 503 from the stop until the exit, {took:.1f} s")


def test_a_health_port_in_use_is_one_line(sockd: SockdLauncher, free_port: Any) -> None:
    taken = free_port()
    blocker = sockd("--metrics", f"127.0.0.1:{taken}")
    result = run_sockd(
        "start", "tests.apps.echo_app:sio", "--port", str(free_port()), "--title", "second",
        "--health", f"127.0.0.1:{taken}",
    )  # fmt: skip
    assert result.returncode == 3
    assert result.stderr_lines() == [
        f"sockd: error: cannot listen on 127.0.0.1:{taken} for --health: Address already in use"
    ]
    assert blocker.proc.poll() is None


@pytest.mark.timeout(90)
def test_with_redis_unreachable_the_host_refuses_to_report_healthy(
    sockd: SockdLauncher, free_port: Any, outage_redis: RedisServer, watch: list[Watcher]
) -> None:
    health, metrics = free_port(), free_port()
    sockd(
        "--health", f"127.0.0.1:{health}", "--metrics", f"127.0.0.1:{metrics}",
        workers=2, redis=outage_redis.url,
    )  # fmt: skip
    watch.append(watcher := Watcher(health))
    wait_until_sync(lambda: watcher.last == (200, "serving"), 20, "serving")
    outage_redis.stop()
    wait_until_sync(lambda: watcher.last == (503, "redis unreachable"), 30, "503")
    answer = ask(health)
    assert answer is not None and answer[1]["bus"] == {"0": "degraded", "1": "degraded"}
    assert total(scrape(metrics), "sockd_bus_connected") == 0
    outage_redis.start()
    wait_until_sync(lambda: watcher.last == (200, "serving"), 30, "200 with Redis back")
    wait_until_sync(
        lambda: total(scrape(metrics), "sockd_bus_connected") == 2, 30, "both buses back"
    )
    answers = [a for a in watcher.stop() if a is not None]
    # At boot the buses connect a moment after the workers are ready: 503 until then.
    answers = answers[answers.index((200, "serving")) :]
    assert answers == [(200, "serving"), (503, "redis unreachable"), (200, "serving")], answers
