"""An app whose startup leaves an orphan behind: a grandchild whose parent exits at once.

Inside a container the orphan is re-parented to PID 1, the sockd master, which must
reap it when it exits, or zombies pile up.
"""

from __future__ import annotations

import subprocess

import socketio

sio = socketio.AsyncServer(async_mode="asgi")


async def leave_an_orphan() -> None:
    # sh starts the sleep in the background and exits: the sleep loses its parent.
    subprocess.run(["sh", "-c", "sleep 1.5 &"], check=True)


app = socketio.ASGIApp(sio, on_startup=leave_an_orphan)


@sio.event
async def echo(sid: str, data: object) -> object:
    return data
