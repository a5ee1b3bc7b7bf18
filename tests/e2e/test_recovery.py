"""Connection state recovery over the IPC bus, with the official JavaScript client.

For each disruption sockd can cause or suffer (the client's transport closing, its worker
killed, a rolling reload, recycling, scale-down), client A must come back with the same
socket id, ``recovered`` true, its room kept, and every broadcast that client B made to
the room through the gap received once and in order (tests/js/recovery.js). A plain
python-socketio app serves (tests/apps/recovery_app.py), so the app sees Node's events.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.js_recovery import APP, apart, assert_recovered, node_binary, run_recovery
from tests.harness import SockdLauncher, SockdProcess, SourceAddresses

WINDOW = "30"


@pytest.fixture(scope="module")
def node() -> str:
    return node_binary()


@pytest.fixture
def recovery_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION", WINDOW)


@pytest.fixture(scope="module")
def cluster(sockd_module: SockdLauncher) -> Iterator[SockdProcess]:
    """Two workers with recovery on, for the tests that do not harm them."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOCKD_IO_RECOVERY_MAX_DISCONNECTION_DURATION", WINDOW)
        yield sockd_module(app=APP, workers=2)


@pytest.mark.parametrize("transports", ["websocket", "polling", "polling,websocket"])
def test_the_clients_own_transport_closing(
    cluster: SockdProcess, node: str, source_addresses: SourceAddresses, transports: str
) -> None:
    result = run_recovery(node, cluster.port, apart(cluster, source_addresses(8)), None, transports)
    assert_recovered(result, gap=False)  # the reconnect may beat the next broadcast
    assert result["after"]["worker"] == result["workerBefore"]
    assert result["after"]["connects"] == 2 and result["after"]["disconnects"] == 1


def test_its_worker_killed(
    sockd: SockdLauncher, node: str, recovery_on: None, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app=APP, workers=2)
    sources = apart(proc, source_addresses(8))

    def kill(message: dict[str, Any]) -> None:
        os.kill(message["a"]["worker"], signal.SIGKILL)

    result = run_recovery(node, proc.port, sources, kill)
    assert_recovered(result)
    assert result["after"]["worker"] != result["workerBefore"]
    assert result["confirmed"] == list(range(1, result["sent"] + 1)), "B was never disrupted"


def test_a_rolling_reload(
    sockd: SockdLauncher, node: str, recovery_on: None, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app=APP, workers=2, graceful_timeout=5)
    before = set(proc.slot_pids().values())
    mark = proc.line_count()

    def reload(message: dict[str, Any]) -> None:
        proc.send_signal(signal.SIGHUP)

    result = run_recovery(node, proc.port, apart(proc, source_addresses(8)), reload)
    proc.wait_for_match(r"reload \d+ finished", 60, mark)
    assert_recovered(result)
    assert result["after"]["worker"] not in before


def test_recycling(
    sockd: SockdLauncher, node: str, recovery_on: None, source_addresses: SourceAddresses
) -> None:
    proc = sockd("--max-age", "4", app=APP, workers=2, graceful_timeout=5)
    sources = apart(proc, source_addresses(8))
    result = run_recovery(node, proc.port, sources, lambda message: None)  # it comes by itself
    assert "recycl" in proc.output_tail(200)
    assert_recovered(result)


def test_scale_down(
    sockd: SockdLauncher, node: str, recovery_on: None, source_addresses: SourceAddresses
) -> None:
    proc = sockd(app=APP, workers=2, graceful_timeout=5)
    top = proc.slot_pids()[1]
    sources = apart(proc, source_addresses(12), a_worker=top)

    def scale_down(message: dict[str, Any]) -> None:
        assert message["a"]["worker"] == top
        proc.send_signal(signal.SIGTTOU)

    result = run_recovery(node, proc.port, sources, scale_down)
    assert_recovered(result)
    assert result["after"]["worker"] == proc.slot_pids()[0]
