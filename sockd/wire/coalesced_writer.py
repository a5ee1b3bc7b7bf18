"""Writes to one transport gathered per event-loop turn.

Under load a worker publishes many bus messages in one turn of its loop, and the master
relays each of them to every other worker. Written one by one, each frame is a ``send``
system call on both sides; gathered, a turn's frames leave in one. Order is kept, and
the delay is the rest of the current turn.
"""

from __future__ import annotations

import asyncio


class CoalescedWriter:
    """``write`` appends; the frames of one loop turn go to the transport together."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        """Write what is pending now (also before closing, so nothing queued is lost)."""
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)
