"""What a cluster call returns: what it got, and who did not answer (never silently less).

Each result is the answer itself (a list of sockets, a dict of room sizes, a list of
replies, a count) carrying ``asked``, ``missing``, ``failures``, ``truncated`` and
``complete``. With ``strict=True`` a call raises :class:`IncompleteResult`, which holds
the same result, instead of returning an incomplete one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sockd.worker.cluster.members import Failure, Member, Missing

if TYPE_CHECKING:
    from sockd.worker.cluster.pending import Collected
    from sockd.worker.cluster.remote_socket import RemoteSocket


class ClusterError(Exception):
    """A cluster call could not be made, or (strict) did not get every answer."""


class ClusterBusy(ClusterError):
    """Too many cluster requests are out from this worker already."""


class ClusterUnavailable(ClusterError):
    """The server is not part of a sockd cluster this worker can ask."""


class UnknownNamespace(ClusterError, ValueError):
    """The server has no such namespace."""


class Coverage:
    """Who was asked and who did not (fully) answer."""

    asked: tuple[Member, ...] = ()
    missing: tuple[Missing, ...] = ()
    failures: tuple[Failure, ...] = ()
    #: Some answers were cut at the call's limit.
    truncated: bool = False

    def _cover(self, collected: Collected) -> None:
        self.asked = tuple(collected.asked)
        self.missing = tuple(collected.missing)
        self.failures = tuple(collected.failures)
        self.truncated = collected.truncated

    @property
    def complete(self) -> bool:
        return not (self.missing or self.failures or self.truncated)

    def shortfall(self) -> str:
        """What is incomplete, in one line."""
        parts = [f"no answer from {missing}" for missing in self.missing]
        parts += [f"failed on {failure}" for failure in self.failures]
        if self.truncated:
            parts.append("truncated at the call's limit")
        return "; ".join(parts) or "complete"


class IncompleteResult(ClusterError):
    """A strict call's result lacks answers; ``result`` holds what came."""

    def __init__(self, result: Coverage) -> None:
        super().__init__(f"incomplete cluster result: {result.shortfall()}")
        self.result = result


class SocketList(list["RemoteSocket"], Coverage):
    """``fetch_sockets``: a handle for each matching socket in the cluster."""

    def __init__(self, sockets: list[RemoteSocket], collected: Collected) -> None:
        super().__init__(sockets)
        self._cover(collected)


class RoomSizes(dict[str, int], Coverage):
    """``room_sizes``: room name to member count, cluster-wide (sockets' own rooms left out)."""

    def __init__(self, sizes: dict[str, int], collected: Collected) -> None:
        super().__init__(sizes)
        self._cover(collected)


@dataclass(frozen=True)
class Reply:
    """One member's answer to ``server_side_emit``: its handler's return value, or the
    error it raised (or why it had none)."""

    member: Member
    value: Any = None
    error: str | None = None


class Replies(list[Reply], Coverage):
    """``server_side_emit``: one reply per other member that answered."""

    def __init__(self, replies: list[Reply], collected: Collected) -> None:
        super().__init__(replies)
        self._cover(collected)


class Applied(Coverage):
    """``sockets_join``, ``sockets_leave``, ``disconnect_sockets``, a filtered emit: how
    many sockets it was applied to, cluster-wide."""

    def __init__(self, count: int, collected: Collected) -> None:
        self.count = count
        self._cover(collected)

    def __repr__(self) -> str:
        return f"Applied(count={self.count}, {self.shortfall()})"
