"""A POST whose body comes chunked is read, up to the largest payload allowed.

Spec: a long-polling POST carries a payload; HTTP/1.1 lets a client send a body with
``Transfer-Encoding: chunked`` instead of a ``Content-Length``, and Node's engine.io reads
it either way (refusing one larger than ``maxHttpBufferSize``). python-engineio (4.11-4.15)
reads ``CONTENT_LENGTH`` bytes, 0 without the header: a chunked POST is answered ``ok`` and
its packets are dropped. Here its body is read first, at most ``max_http_buffer_size``
bytes (beyond that, the library's answer to a payload too large: 400, the session closed),
then handed to the library with its length.
"""

from __future__ import annotations

from typing import Any

from engineio import exceptions
from engineio.async_socket import AsyncSocket


class _Read:
    """A body already read, as ``environ["wsgi.input"]``."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self, length: int | None = None) -> bytes:
        body, self._body = self._body, b""
        return body


def is_chunked(environ: dict[str, Any]) -> bool:
    """Whether the request's body has no length but comes in chunks."""
    encoding = environ.get("HTTP_TRANSFER_ENCODING", "")
    return "CONTENT_LENGTH" not in environ and "chunked" in encoding.lower()


class ChunkedPost(AsyncSocket):
    """Reads a chunked POST body (bounded) before the library handles the POST."""

    async def handle_post_request(self, environ: dict[str, Any]) -> None:
        if is_chunked(environ):
            limit = self.server.max_http_buffer_size
            body = await environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                raise exceptions.ContentTooLongError()
            environ = {**environ, "CONTENT_LENGTH": str(len(body)), "wsgi.input": _Read(body)}
        await super().handle_post_request(environ)
