"""docs/grafana/sockd.json asks only for series sockd serves, from the scrape config's job
(tests/e2e/test_prometheus.py runs every one of its queries on a real Prometheus)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sockd.supervisor.observe.collector import HELP

DOCS = Path(__file__).resolve().parents[4] / "docs"
#: The series prometheus_client writes for each family (counters, histograms).
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum")


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DOCS / "grafana" / "sockd.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_names_only_served_series_of_the_sockd_job() -> None:
    served = {name + suffix for name in HELP for suffix in SUFFIXES}
    queries = dashboard_queries()
    assert len(queries) > 10
    for query in queries:
        names = set(re.findall(r"\b((?:sockd|process)_[a-z_]+)\b", query))
        assert names, query
        assert {n for n in names if n.startswith("sockd_")} <= served, query
        assert 'job="sockd"' in query, query
    assert "job_name: sockd" in (DOCS / "prometheus" / "prometheus.yml").read_text()
