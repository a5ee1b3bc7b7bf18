"""The store over the master (the IPC bus): frames on the worker's control channel.

The master answers a restore on the same channel that brings the numbered packets, so
the answer is applied in its place among them: every packet numbered before the answer
is either delivered before it or among the missed ones it carries, every later one comes
after it (see ``sockd/supervisor/recovery/``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sockd.wire.frames import Kind
from sockd.wire.recovery import note, stored_packet, unpack
from sockd.worker.recovery.delivery import Order, Packets, packets_of
from sockd.worker.recovery.store import PutBack, Restored

log = logging.getLogger("sockd.recovery")

#: How long a CONNECT waits for the master's answer before it becomes a fresh session.
RESTORE_TIMEOUT = 5.0

Send = Callable[[Kind, bytes], None]


class MasterStore:
    def __init__(self, send: Send, timeout: float = RESTORE_TIMEOUT) -> None:
        self.position: str | None = None
        self._send = send
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[PutBack, asyncio.Future[str | None]]] = {}

    async def sequence(
        self,
        namespace: str,
        rooms: Sequence[Any] | None,
        excluded: Sequence[str],
        text: str,
        attachments: Sequence[bytes],
    ) -> None:
        self._send(Kind.SEQUENCE, stored_packet(namespace, rooms, excluded, text, attachments))

    def opened(
        self, pid: str, sid: str, namespace: str, rooms: list[Any], data: Any, start: str | None
    ) -> None:
        self._note("open", pid=pid, sid=sid, namespace=namespace, rooms=rooms, data=data,
                   start=start)  # fmt: skip

    def joined(self, pid: str, room: Any) -> None:
        self._note("join", pid=pid, room=room)

    def left(self, pid: str, room: Any) -> None:
        self._note("leave", pid=pid, room=room)

    def saved(self, pid: str, data: Any) -> None:
        self._note("data", pid=pid, data=data)

    def lost(self, pid: str, reason: str) -> None:
        self._note("lost", pid=pid, reason=reason)

    def ended(self, pid: str) -> None:
        self._note("end", pid=pid)

    async def restore(
        self, pid: str, namespace: str, offset: str | None, target: PutBack
    ) -> str | None:
        request = next(self._ids)
        answered: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._pending[request] = (target, answered)
        self._note("restore", id=request, pid=pid, namespace=namespace, offset=offset)
        try:
            return await asyncio.wait_for(asyncio.shield(answered), self._timeout)
        except TimeoutError:
            log.warning("recovery: no answer from the master in %.0fs: a fresh session",
                        self._timeout)  # fmt: skip
            return None
        finally:
            self._pending.pop(request, None)

    def answered(self, header: dict[str, Any], missed: list[bytes]) -> None:
        """The master's answer to a restore, in its place among the numbered packets: the
        socket is registered and what it missed written in this one step."""
        pending = self._pending.pop(header.get("id", 0), None)
        refused = bool(header.get("refused"))
        if pending is None:
            if not refused:  # the CONNECT gave up waiting: the session stays lost
                self.lost(header["pid"], "transport close")
            return
        target, answered = pending
        sid = None
        if not refused:
            restored = Restored(header["sid"], header["rooms"], header.get("data"))
            try:
                sid = target.register(restored)
                if sid is not None:
                    target.finish([_packets(payload) for payload in missed], None)
            except Exception:
                log.exception("recovery: putting session back failed")
                self.lost(header["pid"], "transport close")
                sid = None
        if not answered.done():
            answered.set_result(sid)

    @staticmethod
    def order(offset: str) -> Order:
        return (int(offset.rpartition("-")[2]),)

    def _note(self, op: str, **fields: Any) -> None:
        self._send(Kind.RECOVERY, note(op, **fields))


def _packets(payload: bytes) -> Packets:
    """The Engine.IO packets of a SEQUENCED payload."""
    _, (text, *attachments) = unpack(payload)
    return packets_of(text, attachments)
