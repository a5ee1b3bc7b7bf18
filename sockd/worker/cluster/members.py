"""Who takes part in cluster requests: each worker process, on this host or another."""

from __future__ import annotations

import socket
from dataclasses import dataclass

HOSTNAME = socket.gethostname()


@dataclass(frozen=True)
class Member:
    """One worker that answers requests. ``id`` is what the transport routes by (the pid
    over the master, the bus's ``host_id`` over Redis)."""

    id: str
    pid: int
    slot: int | None
    host: str = HOSTNAME

    def __str__(self) -> str:
        worker = f"worker {self.slot}" if self.slot is not None else "worker"
        return f"{worker} (pid {self.pid}) on {self.host}"

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "pid": self.pid, "slot": self.slot, "host": self.host}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Member:
        slot = data.get("slot")
        return cls(
            str(data["id"]),
            int(str(data["pid"])),
            int(str(slot)) if slot is not None else None,
            str(data.get("host") or "?"),
        )


@dataclass(frozen=True)
class Missing:
    """A member whose answer is not (all) in the result, and why. ``member`` is None when
    the other members could not even be known (the bus was unreachable)."""

    member: Member | None
    reason: str

    def __str__(self) -> str:
        return f"{self.member or 'the other members'}: {self.reason}"


@dataclass(frozen=True)
class Failure:
    """A member that answered with an error instead of a result."""

    member: Member
    error: str

    def __str__(self) -> str:
        return f"{self.member}: {self.error}"
