"""Engine.IO's HTTP answers carry their length, so HTTP/1.0 clients can read them.

Spec (HTTP, RFC 9112 section 6.1): a server must not send chunked transfer coding to a
client that did not ask in HTTP/1.1; an HTTP/1.0 client reads a body up to its
``Content-Length`` or until the connection closes. python-engineio's ASGI driver (4.11-4.15)
answers with the whole body at once but without its length, so uvicorn frames every answer
as chunked, HTTP/1.0 requests' too (which such a client reads as garbage around the
payload). The body is known when the answer starts: here its length goes with it, which
also spares HTTP/1.1 clients the chunk framing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

#: The signature of python-engineio's ASGI ``make_response``.
MakeResponse = Callable[[str, list[tuple[str, str]], Any, dict[str, Any]], Awaitable[None]]


def with_length(make_response: MakeResponse) -> MakeResponse:
    """python-engineio's ASGI ``make_response``, adding ``Content-Length`` to HTTP answers."""

    async def make_response_with_length(
        status: str, headers: list[tuple[str, str]], payload: Any, environ: dict[str, Any]
    ) -> None:
        if environ["asgi.scope"]["type"] == "http" and not any(
            name.lower() == "content-length" for name, _ in headers
        ):
            size = len(payload.encode() if isinstance(payload, str) else payload or b"")
            headers = [*headers, ("Content-Length", str(size))]
        await make_response(status, headers, payload, environ)

    return make_response_with_length
