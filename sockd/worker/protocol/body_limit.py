"""A request body larger than the largest payload is not read whole.

Spec: a POST carries at most ``maxHttpBufferSize`` bytes; Node's engine.io refuses a larger
one (413) as it reads. python-engineio 4.11-4.12's ASGI driver reads every request's body
whole in ``translate_request``, before anything looks at its length: a client's 1 GB body
is a 1 GB buffer. From 4.13 the body is read on demand, after the length is checked. On
those versions the body is read here through a ``receive`` that ends it once it has
passed ``max_http_buffer_size``, as if the client had gone: the library then refuses the
POST as too long (400, the session closed), having held the limit and one read at most.
"""

from __future__ import annotations

from typing import Any

import engineio

Message = dict[str, Any]


class BodyLimit(engineio.AsyncServer):
    """Reads an HTTP request's body only up to ``max_http_buffer_size`` (and one event)."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        scope, receive, send = args
        if scope["type"] != "http":
            return await super().handle_request(scope, receive, send)
        limit, read = self.max_http_buffer_size, 0

        async def bounded_receive() -> Message:
            nonlocal read
            if read > limit:
                return {"type": "http.disconnect"}
            event = await receive()
            read += len(event.get("body") or b"")
            return event

        return await super().handle_request(scope, bounded_receive, send)
