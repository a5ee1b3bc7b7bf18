"""A real Prometheus (Debian's package) scrapes sockd's --metrics and answers a query.

The scrape config is docs/prometheus/prometheus.yml's job, pointed at the test's port and
scraped every second; configuration and storage live in the test's temp dir, and the
server is stopped by pid. Every query of the Grafana dashboard (docs/grafana/sockd.json)
is run on it too.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import (
    REPO_ROOT,
    Client,
    SockdLauncher,
    SourceAddresses,
    stop_process,
    wait_until_sync,
)
from tests.unit.supervisor.observe.test_dashboard import dashboard_queries

DOC_CONFIG = REPO_ROOT / "docs" / "prometheus" / "prometheus.yml"
CLIENTS = 4


def query(port: int, expression: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as reply:
        body = json.loads(reply.read())
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.fixture
def prometheus(
    tmp_path: Path, free_port: Any
) -> Iterator[tuple[int, int, subprocess.Popen[bytes]]]:
    """(Prometheus's port, the metrics port it scrapes, its process)."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: apt-get install -y prometheus", pytrace=False)
    web, metrics = free_port(), free_port()
    config = DOC_CONFIG.read_text()
    assert "127.0.0.1:9300" in config and "scrape_interval: 15s" in config, "config changed"
    config = config.replace("127.0.0.1:9300", f"127.0.0.1:{metrics}")
    (tmp_path / "prometheus.yml").write_text(
        config.replace("scrape_interval: 15s", "scrape_interval: 1s")
    )
    with open(tmp_path / "prometheus.log", "wb") as log:
        proc = subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{web}"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        yield web, metrics, proc
    finally:
        stop_process(proc)
        print((tmp_path / "prometheus.log").read_text(errors="replace")[-3000:])


@pytest.mark.timeout(90)
def test_prometheus_scrapes_sockd_and_answers_a_query(
    sockd: SockdLauncher,
    source_addresses: SourceAddresses,
    prometheus: tuple[int, int, subprocess.Popen[bytes]],
) -> None:
    web, metrics, server = prometheus
    proc = sockd("--metrics", f"127.0.0.1:{metrics}", workers=2)

    async def clients() -> None:
        for ip in source_addresses(CLIENTS):
            client = await Client(proc.port, ip, ["websocket"]).connect()
            await client.call("echo", ip)
            await client.close()

    asyncio.run(clients())

    def answered() -> bool:
        assert server.poll() is None, "Prometheus exited (its log is printed below)"
        try:
            result = query(web, 'sum(sockd_socketio_connects_total{job="sockd"})')
        except OSError:
            return False  # Prometheus still starting
        return bool(result) and float(result[0]["value"][1]) == CLIENTS

    wait_until_sync(answered, 60, f"Prometheus to count {CLIENTS} connects", interval=0.5)
    up = query(web, 'up{job="sockd"}')
    assert [float(series["value"][1]) for series in up] == [1.0]
    ready = query(web, 'sockd_workers{state="ready"}')
    assert float(ready[0]["value"][1]) == 2
    # Every query of the Grafana dashboard is valid PromQL on these series (query() checks
    # the status); those on what exists from the start have an answer already.
    answers = {e: query(web, e.replace("$instance", ".*")) for e in dashboard_queries()}
    for expression, result in answers.items():
        if re.search(r"sockd_(healthy|workers|connections|engineio_sessions)\{", expression):
            assert result, expression
