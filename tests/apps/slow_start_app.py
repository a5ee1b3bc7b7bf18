"""An app whose startup takes a while, to check that sockd waits for it.

The delay comes from ``SLOW_START_SECONDS``; startup prints a marker line so a
test can order it against the master's "worker ready" line.
"""

from __future__ import annotations

import asyncio
import os
import sys

import socketio

sio = socketio.AsyncServer(async_mode="asgi")
started = False


async def on_startup() -> None:
    global started
    await asyncio.sleep(float(os.environ.get("SLOW_START_SECONDS", "2")))
    started = True
    print(f"slow app startup finished (pid {os.getpid()})", file=sys.stderr, flush=True)


app = socketio.ASGIApp(sio, on_startup=on_startup)


@sio.event
async def started_yet(sid: str, data: object = None) -> bool:
    return started
