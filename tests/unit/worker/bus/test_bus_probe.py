"""The bus lag from probes: timed on arrival from this host's clock, rising while a
worker's own probe stays away (over Redis), not judged on other hosts' clocks."""

from __future__ import annotations

import pytest

from sockd.worker.bus.bus_probe import BOOT_ID, PROBE, BusLag, lag_of, probe
from tests.unit.clocks import ManualClock


def message(host_id: str, at: float, boot: str = BOOT_ID) -> dict[str, object]:
    return {"method": PROBE, "host_id": host_id, "boot": boot, "at": at}


def test_a_probe_is_timed_only_on_this_hosts_clock() -> None:
    assert probe("me")["method"] == PROBE and probe("me")["boot"] == BOOT_ID
    assert lag_of(message("other", 10.0), 10.25) == 0.25
    assert lag_of(message("other", 10.0, boot="another machine"), 10.25) is None
    assert lag_of({"method": PROBE, "boot": BOOT_ID, "at": "x"}, 1.0) is None


def test_over_the_master_bus_the_others_probes_give_the_lag() -> None:
    clock = ManualClock()
    lag = BusLag("me", clock.monotonic)
    assert lag.seconds() is None
    lag.sent(clock.now)  # never comes back: the master relays to the others only
    clock.advance(0.003)
    lag.received(message("other", clock.now - 0.002))
    clock.advance(30)
    assert lag.seconds() == pytest.approx(0.002), "no own probe came back: none is waited for"


def test_over_redis_an_own_probe_that_stays_away_is_a_growing_lag() -> None:
    clock = ManualClock()
    lag = BusLag("me", clock.monotonic)
    lag.sent(clock.now)
    clock.advance(0.004)
    lag.received(message("me", clock.now - 0.004))
    assert lag.seconds() == pytest.approx(0.004)
    lag.sent(clock.now)  # Redis goes away: this one does not come back
    clock.advance(7)
    assert lag.seconds() == pytest.approx(7)
    lag.received(message("me", clock.now - 0.5))  # back: the lag is the probe's again
    assert lag.seconds() == pytest.approx(0.5)
