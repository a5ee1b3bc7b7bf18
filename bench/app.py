"""The app every benchmarked system serves: python-socketio with an echo event."""

import socketio

sio = socketio.AsyncServer(async_mode="asgi")
app = socketio.ASGIApp(sio)


@sio.event
async def echo(sid: str, data: object) -> object:
    return data
