"""Ending Engine.IO sessions so that clients reconnect by themselves.

python-engineio's ``disconnect()`` sends the Engine.IO close packet, which
python-socketio's client takes as final (it never reconnects), and leaves the
WebSocket open, so browsers wait for their ping timeout. Here each session is
closed without the close packet and its transport is ended (the WebSocket is
closed, a pending poll returns and the next one gets 400): every client sees a
transport close and reconnects at once, to the next worker for its key.
"""

from __future__ import annotations

import asyncio

import engineio

#: Sessions are closed in this many batches spread over the spread window.
BATCHES = 10


async def end_session(eio: engineio.AsyncServer, sid: str) -> None:
    """Close one session (the app's disconnect handlers run) and end its transport."""
    socket = eio.sockets.pop(sid, None)
    if socket is None:
        return
    await socket.close(wait=False, abort=True)
    # An empty wake-up makes the WebSocket writer close the socket, and a
    # pending long-poll return with no packets.
    socket.queue.put_nowait(None)


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
