"""Draining: end every Engine.IO session so that clients reconnect by themselves.

Each session ends the way ``sockd.worker.protocol.closing.end_session`` ends any session
the server decides to end: without the Engine.IO close packet, which python-socketio's
client takes as final, and with its transport ended (the WebSocket is closed, a pending
poll returns and the next one gets 400). Every client sees a transport close and
reconnects at once, to the next worker for its key.
"""

from __future__ import annotations

import asyncio

import engineio

from sockd.worker.protocol.closing import end_session

#: Sessions are closed in this many batches spread over the spread window.
BATCHES = 10


async def end_all_sessions(eio: engineio.AsyncServer, spread: float) -> None:
    """End every session, spread over ``spread`` seconds to soften the reconnect storm."""
    sids = list(eio.sockets)
    if not sids:
        return
    batch_size = max(1, -(-len(sids) // BATCHES))
    pause = spread / BATCHES
    for start in range(0, len(sids), batch_size):
        await asyncio.gather(*(end_session(eio, sid) for sid in sids[start : start + batch_size]))
        if start + batch_size < len(sids):
            await asyncio.sleep(pause)
