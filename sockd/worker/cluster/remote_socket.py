"""A socket anywhere in the cluster, as ``fetch_sockets`` returns it (Node's RemoteSocket).

Its fields are a snapshot taken when the member that holds it answered; its methods act
on whichever member holds it: ``emit`` and ``call`` through python-socketio (which routes
them to a socket on another worker), ``join``, ``leave`` and ``disconnect`` as requests
to that member alone, answered, so their result says whether they were applied.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sockd.worker.cluster.members import Member
from sockd.worker.cluster.payload import as_emit_data
from sockd.worker.cluster.query import Query
from sockd.worker.cluster.results import Applied

if TYPE_CHECKING:
    from sockd.worker.cluster.requester import Cluster

DEFAULT_TIMEOUT = 5.0


class RemoteSocket:
    def __init__(self, cluster: Cluster, member: Member, record: dict[str, Any]) -> None:
        self._cluster = cluster
        #: The worker that holds the socket.
        self.member = member
        self.id: str = record["id"]
        self.namespace: str = record.get("nsp") or "/"
        self.rooms: list[str] = list(record.get("rooms") or [])
        #: ``headers``, ``query``, ``address``, ``time`` (ISO 8601), ``issued`` (ms), ...
        self.handshake: dict[str, Any] = record.get("handshake") or {}
        #: What ``save_session`` holds for the socket (None if larger than 64 KiB encoded).
        self.data: Any = record.get("data")
        self.data_clipped = bool(record.get("data_clipped"))

    def __repr__(self) -> str:
        return f"RemoteSocket({self.id!r}, namespace={self.namespace!r}, on {self.member})"

    async def emit(self, event: str, *args: Any) -> None:
        data = as_emit_data(list(args))
        await self._cluster.sio.emit(event, data, to=self.id, namespace=self.namespace)

    async def call(self, event: str, *args: Any, timeout: float = 60) -> Any:
        """Emit and wait for the client's acknowledgement."""
        return await self._cluster.sio.call(
            event, as_emit_data(list(args)), to=self.id, namespace=self.namespace, timeout=timeout
        )

    async def join(self, room: str | list[str], timeout: float = DEFAULT_TIMEOUT) -> Applied:
        rooms = [room] if isinstance(room, str) else list(room)
        return await self._act("join", {"rooms": rooms}, timeout)

    async def leave(self, room: str | list[str], timeout: float = DEFAULT_TIMEOUT) -> Applied:
        rooms = [room] if isinstance(room, str) else list(room)
        return await self._act("leave", {"rooms": rooms}, timeout)

    async def disconnect(self, close: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Applied:
        return await self._act("disconnect", {"close": close}, timeout)

    async def _act(self, op: str, args: dict[str, Any], timeout: float) -> Applied:
        query = Query(op, self.namespace, rooms=(self.id,), args=args, to=self.member.id)
        collected = await self._cluster.request(query, timeout)
        return Applied(sum(int(value) for _, value in collected.values), collected)
