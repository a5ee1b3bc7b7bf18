"""The echo app plus ``GET /whoami``: which worker answered, and the client address it saw.

Raw-socket tests (PROXY headers, keep-alive, TLS) read the address from here without a
Socket.IO client; Socket.IO clients ask the echo app's ``whoami`` event instead.
"""

from __future__ import annotations

import json
import os
from typing import Any

import socketio

from tests.apps.echo_app import sio

_socketio = socketio.ASGIApp(sio)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http" or scope["path"] != "/whoami":
        await _socketio(scope, receive, send)
        return
    client = scope.get("client") or ("", 0)
    body = json.dumps(
        {"pid": os.getpid(), "client": client[0], "port": client[1], "scheme": scope["scheme"]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
