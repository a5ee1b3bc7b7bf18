"""The metrics as served: prometheus_client's text format, read back with its own parser."""

from __future__ import annotations

import asyncio
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from sockd.supervisor.lifecycle.worker_state import Worker
from sockd.supervisor.observe.collector import HELP, ClusterCollector, NeverBack, Sources
from sockd.supervisor.observe.endpoints import metrics_registry
from sockd.supervisor.observe.ledger import WorkerLedger
from sockd.wire.histogram import WAIT_BOUNDS, Histogram
from tests.unit.supervisor.fake_worker import FakeWorker
from tests.unit.supervisor.observe.test_ledger import report


def scrape(workers: list[FakeWorker], **overrides: Any) -> dict[str, Any]:
    """name -> the parsed family, from the text the registry writes."""
    current: dict[int, Worker] = {w.slot: w for w in workers}
    ledger = WorkerLedger(lambda: current, lambda: False, lambda: 30.0, lambda: 0.0)
    for worker in workers:
        ledger.track(worker)
    waits = Histogram(WAIT_BOUNDS)
    waits.observe(0.0)
    waits.observe(0.3)
    sources = Sources(
        title="t", workers=lambda: workers, slot_count=lambda: 3, ledger=ledger,
        handed_off=lambda: {0: 7, 1: 2}, handoff_waits=waits, queued=lambda: 1,
        accepted=lambda: 9, dropped=lambda: 0, reloads=lambda: {"ok": 2},
        holding_back=lambda: False, refused_per_address=lambda: 3,
        healthy=lambda: True, **overrides,
    )  # fmt: skip
    text = generate_latest(metrics_registry(ClusterCollector(sources))).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(family: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}


def test_every_name_is_served_with_its_type_and_the_parser_reads_it_back() -> None:
    async def scenario() -> dict[str, Any]:
        ready = FakeWorker(0)
        ready.mark_ready()
        report(4, 2, 1.25, ready)
        ready.stats.update(connections=5, transports={"polling": 1, "websocket": 3})
        ready.stats["bus"].update(queued=2, lag_seconds=0.004)
        ready.rss = 1000
        return scrape([ready, FakeWorker(1)])

    families = asyncio.run(scenario())
    served = {name.removesuffix("_total") for name in families}
    assert set(HELP) <= served
    assert families["sockd_handoffs"].type == "counter"
    assert families["sockd_event_handler_seconds"].type == "histogram"
    assert samples(families["sockd_handoffs"])[("sockd_handoffs_total", (("slot", "0"),))] == 7
    workers = samples(families["sockd_workers"])
    assert workers[("sockd_workers", (("state", "ready"),))] == 1
    assert workers[("sockd_workers", (("state", "starting"),))] == 1
    assert workers[("sockd_workers", (("state", "restarting"),))] == 1
    sessions = samples(families["sockd_engineio_sessions"])
    assert sessions[("sockd_engineio_sessions", (("slot", "0"), ("transport", "websocket")))] == 3
    handler = samples(families["sockd_event_handler_seconds"])
    assert handler[("sockd_event_handler_seconds_count", (("namespace", "/"),))] == 4
    assert (
        handler[("sockd_event_handler_seconds_bucket", (("le", "0.001"), ("namespace", "/")))] == 0
    )
    assert (
        handler[("sockd_event_handler_seconds_bucket", (("le", "0.0025"), ("namespace", "/")))] == 4
    )
    waits = samples(families["sockd_handoff_wait_seconds"])
    assert waits[("sockd_handoff_wait_seconds_bucket", (("le", "0.001"),))] == 1
    assert waits[("sockd_handoff_wait_seconds_count", ())] == 2
    bus = samples(families["sockd_bus_lag_seconds"])
    assert bus[("sockd_bus_lag_seconds", (("slot", "0"),))] == 0.004
    assert samples(families["sockd_reloads"])[("sockd_reloads_total", (("result", "ok"),))] == 2
    assert "process_resident_memory_bytes" in families


def test_families_without_values_yet_are_served_empty() -> None:
    families = asyncio.run(_empty())
    for name in ("sockd_socketio_events", "sockd_event_handler_seconds", "sockd_worker_restarts"):
        assert name in families and families[name].samples == []


async def _empty() -> dict[str, Any]:
    return scrape([])


def test_a_source_that_starts_from_zero_again_never_makes_a_counter_go_back() -> None:
    guard = NeverBack()
    assert guard.values({0: 5, 1: 2}) == {0: 5, 1: 2}
    assert guard.values({0: 6}) == {0: 6, 1: 2}, "a slot removed keeps its count"
    assert guard.values({0: 6, 1: 1}) == {0: 6, 1: 3}, "added again, counting from zero"
