"""The bus's state and its log: one line per outage start, per interval, and per end."""

from __future__ import annotations

import logging

import pytest

from sockd.worker.bus.bus_health import LOG_INTERVAL, BusHealth
from tests.unit.clocks import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def health(clock: ManualClock) -> BusHealth:
    return BusHealth(
        "streams",
        "127.0.0.1:6379",
        queue_limit=100,
        log=logging.getLogger("test.bus"),
        clock=clock.monotonic,
        wall_clock=lambda: clock.now + 5_000_000,
    )


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [record.getMessage() for record in caplog.records]
    caplog.clear()
    return lines


def test_degraded_until_the_reader_connects(health: BusHealth) -> None:
    stats = health.stats(queued=0, dropped=0)
    assert stats["state"] == "degraded"
    assert stats["degraded_since"] == 5_001_000.0
    health.reader_up(0, 0)
    assert health.stats(0, 0) == {
        "kind": "streams",
        "state": "connected",
        "degraded_since": None,
        "queued": 0,
        "dropped": 0,
    }


def test_an_outage_costs_one_line_at_its_start_one_per_interval_and_one_at_its_end(
    health: BusHealth, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "test.bus")
    health.reader_up(0, 0)
    _lines(caplog)
    clock.advance(60)
    error = ConnectionError("Connection refused")
    for _ in range(200):  # every publish and every reconnect fails for a while
        health.publish_failed(error, queued=7, dropped=0)
        health.reader_down(error, queued=7, dropped=0)
    lines = _lines(caplog)
    assert len(lines) == 1 and "cannot reach Redis at 127.0.0.1:6379" in lines[0], lines
    assert health.stats(7, 0)["degraded_since"] == 5_001_060.0

    clock.advance(LOG_INTERVAL)
    health.publish_failed(error, queued=9, dropped=2)
    health.publish_failed(error, queued=9, dropped=2)
    lines = _lines(caplog)
    assert len(lines) == 1 and "unreachable for 10s" in lines[0] and "2 dropped" in lines[0]

    health.reader_up(9, 2)
    assert _lines(caplog) == []  # the publisher has not got through yet
    assert health.stats(9, 2)["state"] == "degraded"
    clock.advance(1.5)
    health.published(0, 2)
    lines = _lines(caplog)
    assert len(lines) == 1 and "is back after 11.5s" in lines[0], lines
    assert health.stats(0, 2)["state"] == "connected"


def test_drops_are_logged_once_per_interval(
    health: BusHealth, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "test.bus")
    for dropped in range(1, 51):
        health.dropped(queued=100, dropped=dropped)
    assert _lines(caplog) == [
        "redis bus: 1 message(s) dropped in the last 10s (1 in all): 100 queued, the bound is 100"
    ]
    clock.advance(LOG_INTERVAL)
    health.dropped(queued=100, dropped=51)
    assert ["50 message(s) dropped" in line for line in _lines(caplog)] == [True]
