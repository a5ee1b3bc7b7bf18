"""The master's slots as pure state: who serves each slot, who takes it over, who failed.

A slot is a stable index (0..count-1); its worker is replaced in place, so its clients
stay on it. Nothing here starts, signals or waits for a process: the slot keeper
(``slot_keeper.py``) acts, this table remembers and decides, and the unit tests check the
decisions (backoff, crash-loop guard, when the cluster counts as booted).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState

W = TypeVar("W", bound=Worker)

#: Consecutive failed starts of one slot, once the cluster was up, that end it.
MAX_STARTUP_FAILURES = 5
#: A worker that stayed ready this long resets its slot's failure count.
HEALTHY_PERIOD = 30.0


@dataclass(frozen=True)
class Backoff:
    """Restart delays: ``first``, growing by ``factor`` per failure in a row, up to ``ceiling``."""

    first: float = 0.1
    factor: float = 2.0
    ceiling: float = 10.0

    def delay(self, failures: int) -> float:
        failures = min(max(failures, 1), 32)
        return min(self.first * self.factor ** (failures - 1), self.ceiling)


class Role(enum.Enum):
    """A worker's place in the table."""

    CURRENT = "current"  # the slot's connections go to it (or will, once ready)
    INCOMING = "incoming"  # a successor that takes the slot over once ready
    NONE = "none"  # replaced, or its slot was removed


class Verdict(enum.Enum):
    """What to do after a worker failed to start."""

    RETRY = "retry"  # restart it after the backoff delay
    FATAL = "fatal"  # the master cannot serve: stop with this worker's error
    GIVE_UP_SLOT = "give_up_slot"  # a slot added while serving never worked: remove it


class SlotTable(Generic[W]):
    def __init__(
        self,
        count: int,
        backoff: Backoff | None = None,
        max_failures: int = MAX_STARTUP_FAILURES,
        healthy_period: float = HEALTHY_PERIOD,
    ) -> None:
        self.count = count
        #: Reloads so far; each worker records the one it was started in.
        self.generation = 0
        #: slot -> the worker the slot's connections go to.
        self.current: dict[int, W] = {}
        #: slot -> a successor that takes the slot over once it is ready.
        self.incoming: dict[int, W] = {}
        #: Every worker not reaped yet, in any state.
        self.live: list[W] = []
        #: slot -> restarts after an unexpected exit or a failed start.
        self.restarts: dict[int, int] = {}
        #: slot -> failed starts (or crashes soon after start) in a row.
        self.failures: dict[int, int] = {}
        #: slot -> when its next worker is due to start.
        self.restart_at: dict[int, float] = {}
        #: Every slot's first worker was ready once.
        self.booted = False
        #: Slots added while serving whose worker has not been ready yet.
        self._untried: set[int] = set()
        self._backoff = backoff or Backoff()
        self._max_failures = max_failures
        self._healthy_period = healthy_period

    # -- slots -------------------------------------------------------------

    def exists(self, slot: int) -> bool:
        return 0 <= slot < self.count

    def add_slot(self) -> int:
        """One slot more at the top; its number."""
        slot = self.count
        self.count += 1
        if self.booted:
            self._untried.add(slot)
        return slot

    def remove_top_slot(self) -> tuple[int, list[W]]:
        """Take the highest slot away; its number and its workers (to be drained)."""
        self.count -= 1
        slot = self.count
        self.restart_at.pop(slot, None)
        self.failures.pop(slot, None)
        self._untried.discard(slot)
        workers = [w for w in (self.current.pop(slot, None), self.incoming.pop(slot, None)) if w]
        return slot, workers

    # -- workers -----------------------------------------------------------

    def add(self, worker: W, role: Role = Role.CURRENT) -> None:
        """A freshly spawned worker: the slot's own, its successor, or (``Role.NONE``) one
        that lost its place before it was spawned (it only has to be reaped)."""
        self.live.append(worker)
        if role is not Role.NONE:
            (self.incoming if role is Role.INCOMING else self.current)[worker.slot] = worker

    def role(self, worker: W) -> Role:
        if self.incoming.get(worker.slot) is worker:
            return Role.INCOMING
        if self.current.get(worker.slot) is worker:
            return Role.CURRENT
        return Role.NONE

    def promote(self, worker: W) -> W | None:
        """A ready successor takes its slot over; the worker it replaces, if any."""
        slot = worker.slot
        del self.incoming[slot]
        previous = self.current.get(slot)
        self.current[slot] = worker
        return previous

    def served(self, worker: W) -> None:
        """``worker`` is ready: its slot has worked at least once."""
        self._untried.discard(worker.slot)

    def remove(self, worker: W) -> Role:
        """A reaped worker leaves; a successor leaves its place, a current one keeps it
        (marked exited) until its replacement starts."""
        role = self.role(worker)
        self.live.remove(worker)
        if role is Role.INCOMING:
            del self.incoming[worker.slot]
        return role

    def all_ready(self) -> bool:
        """Every slot has a ready worker."""
        return len(self.current) >= self.count and all(
            self.current.get(slot) is not None and self.current[slot].state is WorkerState.READY
            for slot in range(self.count)
        )

    def boot_if_ready(self) -> bool:
        """True the first time every slot has a ready worker (the cluster is up)."""
        if self.booted or not self.all_ready():
            return False
        self.booted = True
        return True

    def ready_count(self) -> int:
        return sum(w.state is WorkerState.READY for w in self.current.values())

    # -- failures and restarts ---------------------------------------------

    def start_failed(self, slot: int) -> Verdict:
        """A worker of ``slot`` exited before it was ready."""
        failures = self.failures[slot] = self.failures.get(slot, 0) + 1
        if not self.booted:
            return Verdict.FATAL
        if failures < self._max_failures:
            return Verdict.RETRY
        return Verdict.GIVE_UP_SLOT if slot in self._untried else Verdict.FATAL

    def record_failure(self, slot: int, ready_for: float = 0.0) -> None:
        """A worker of ``slot`` crashed after ``ready_for`` seconds of service, or could not
        even be spawned; a long healthy service starts the count anew."""
        if ready_for >= self._healthy_period:
            self.failures[slot] = 0
        self.failures[slot] = self.failures.get(slot, 0) + 1

    def schedule_restart(self, slot: int, now: float) -> float:
        """Start the slot's next worker after its backoff; the delay."""
        delay = self._backoff.delay(self.failures.get(slot, 0))
        self.restart_at[slot] = now + delay
        self.restarts[slot] = self.restarts.get(slot, 0) + 1
        return delay

    def due_restarts(self, now: float) -> list[int]:
        """Slots whose restart is due (each returned once)."""
        due = sorted(slot for slot, at in self.restart_at.items() if at <= now)
        for slot in due:
            del self.restart_at[slot]
        return due

    def cancel_restarts(self) -> None:
        self.restart_at.clear()
