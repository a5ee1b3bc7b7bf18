"""The request body reader of Engine.IO's environ, as one class.

python-engineio's ASGI driver defines a class inside ``translate_request``, so every
request gets a new class object (~2.5 KiB) for its ``wsgi.input``; python-socketio keeps
each session's first environ for ``get_environ``, so that class lived as long as the
session. This puts an instance of one module-level class with the same behaviour there,
and it forgets ``receive`` once the body cannot have more parts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
#: The signature of python-engineio's ASGI ``translate_request``.
Translate = Callable[[Message, Any, Any], Awaitable[Message]]


class RequestBody:
    """``environ["wsgi.input"]``: the HTTP request body, read at most once in full."""

    __slots__ = ("_event", "_payload", "_receive")

    def __init__(self, event: Message, receive: Callable[[], Awaitable[Message]]) -> None:
        self._event = event
        self._payload: bytes | None = None
        self._receive = receive if event.get("more_body") else None

    async def read(self, length: int | None = None) -> bytes:
        if self._payload is None and self._event["type"] == "http.request":
            self._payload = self._event.get("body") or b""
            while self._event.get("more_body") and self._receive is not None:
                self._event = await self._receive()
                if self._event["type"] == "http.request" and (
                    length is None or len(self._payload) < length
                ):
                    self._payload += self._event.get("body") or b""
            self._receive = None
        payload = self._payload or b""
        if length is None:
            self._payload = b""
            return payload
        self._payload = payload[length:]
        return payload[:length]


def with_request_body(translate: Translate) -> Translate:
    """python-engineio's ASGI ``translate_request``, putting a :class:`RequestBody` in each
    environ. Its ``AwaitablePayload`` keeps the request's first event as ``event`` (since
    4.13); an older one holds the whole body already and is kept."""

    async def translate_request(scope: Message, receive: Any, send: Any) -> Message:
        environ = await translate(scope, receive, send)
        body = environ.get("wsgi.input") if environ else None
        if body is not None and hasattr(body, "event"):
            environ["wsgi.input"] = RequestBody(body.event, receive)
        return environ

    return translate_request
