"""A request whose client went away before its first event is dropped quietly.

Spec: nothing to answer: the client is gone. python-engineio (4.11-4.15) reads the first
event of a request in its ASGI ``translate_request``, which returns an empty environ when
that event is the client's disconnect (a POST whose client closed before sending its
body), then fails on it in ``handle_request`` (``KeyError: 'REQUEST_METHOD'``): uvicorn logs
the traceback, once per such request, which any client can cause. Here the first event of
an HTTP request is read before the library, and a disconnect ends the request; otherwise
the library reads that event again. WebSocket requests start with the handshake's own
event and are passed through untouched (their receive is the one each message is read by).
"""

from __future__ import annotations

from typing import Any

import engineio

Message = dict[str, Any]


class VanishedClient(engineio.AsyncServer):
    """Ends an HTTP request whose first event is the client's disconnect."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        scope, receive, send = args
        if scope["type"] != "http":
            return await super().handle_request(scope, receive, send)
        first = await receive()
        if first["type"] == "http.disconnect":
            return None
        pending = [first]

        async def receive_again() -> Message:
            return pending.pop() if pending else await receive()

        return await super().handle_request(scope, receive_again, send)
