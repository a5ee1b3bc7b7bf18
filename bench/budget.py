"""How much load each scenario offers, for a full run (~10 min) and a quick smoke run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Durations in seconds, counts in clients. Same budget for every system in a run."""

    rounds: int
    #: Index of the first client address (see bench/loadgen/addresses.py). The suite moves
    #: it every round, so which clients share a worker (sockd's hash, nginx's ip_hash) is
    #: drawn anew each round instead of favouring one system in every round.
    address_base: int = 0
    #: Clients offer permessage-deflate on WebSocket upgrades, as browsers do.
    offer_deflate: bool = True
    connect_concurrency: int = 64
    storm_seconds: float = 4.0
    storm_concurrency: int = 32
    polling_seconds: float = 4.0
    polling_sessions: int = 50
    echo_seconds: float = 4.0
    echo_clients: int = 50
    fanout_receivers: int = 1000
    #: Deliveries per second offered in the open-loop phase (the issue's target load).
    fanout_offered: float = 20_000.0
    fanout_seconds: float = 4.0
    #: Broadcasts in flight in the closed-loop (capacity) phase.
    fanout_window: int = 4
    #: A delivery that has not arrived this long after its broadcast counts as lost.
    fanout_loss_after: float = 3.0
    #: Bound on waiting for a backlog to drain after each phase.
    fanout_drain: float = 30.0
    #: Rooms of ``rooms_members`` clients each, every member broadcasting to its room.
    rooms_count: int = 100
    rooms_members: int = 4
    rooms_seconds: float = 4.0
    idle_connections: int = 2000
    #: Pause before each memory reading, so freed and deferred work has settled.
    idle_settle: float = 1.0


FULL = Budget(rounds=3)

QUICK = Budget(
    rounds=1,
    storm_seconds=0.8,
    polling_seconds=0.8,
    polling_sessions=16,
    echo_seconds=0.8,
    echo_clients=16,
    fanout_receivers=200,
    fanout_seconds=0.8,
    fanout_loss_after=2.0,
    fanout_drain=10.0,
    rooms_count=20,
    rooms_seconds=0.8,
    idle_connections=200,
    idle_settle=0.3,
)
