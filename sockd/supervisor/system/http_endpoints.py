"""A small HTTP server on the master's event loop: ``/metrics`` and ``/health``.

The master answers these itself (they describe the master and its workers, and must
answer while workers restart), on a listener of their own, away from the clients' port.
Each request is bounded as the master's peeks are: a request head of at most
:data:`HEAD_LIMIT` bytes within :data:`HEAD_TIMEOUT` seconds, the answer written within
:data:`WRITE_TIMEOUT` (a scraper that stops reading is cut off), at most
:data:`MAX_CLIENTS` at once, one request per connection. Nothing here blocks the loop:
the answer is built in one go from what the master already knows, then written as the
peer reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from http import HTTPStatus

from sockd.config.bind import BindAddress
from sockd.errors import StartupError

log = logging.getLogger("sockd.master")

HEAD_LIMIT = 8192
HEAD_TIMEOUT = 5.0
WRITE_TIMEOUT = 10.0
MAX_CLIENTS = 32
#: After refusing a head too large: how long, and how many reads, to read its rest away.
LINGER_TIMEOUT = 1.0
LINGER_READS = 8

#: (status, content type, body)
Response = tuple[int, str, bytes]
#: path -> what answers a GET (or HEAD) of it
Routes = dict[str, Callable[[], Response]]


class HttpEndpoint:
    """One listener answering GET and HEAD of its ``routes``."""

    def __init__(self, address: BindAddress, routes: Routes, purpose: str) -> None:
        """``purpose``: the flags it serves, for errors (``--metrics``)."""
        self.address = address
        self._routes = routes
        self._purpose = purpose
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen; a StartupError naming the address and the flag when that fails."""
        try:
            self._server = await asyncio.start_server(
                self._serve, self.address.host, self.address.port, limit=HEAD_LIMIT
            )
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise StartupError(
                f"cannot listen on {self.address} for {self._purpose}: {reason}"
            ) from None
        log.info("%s answered on http://%s", " and ".join(self._routes), self.address)

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        self._server = None
        for task in list(self._clients):
            task.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._clients) >= MAX_CLIENTS or task is None:
            writer.transport.abort()
            return
        self._clients.add(task)
        try:
            response = await self._answer(reader)
            if response is not None:
                await asyncio.wait_for(_write(reader, writer, *response), WRITE_TIMEOUT)
                return
        except (TimeoutError, ConnectionError):
            pass  # a slow or gone peer: cut off
        finally:
            self._clients.discard(task)
        writer.transport.abort()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[Response, bool] | None:
        """The response and whether to send its body; None: close without one."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except asyncio.LimitOverrunError:
            return _plain(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE), True
        except (asyncio.IncompleteReadError, TimeoutError):
            return None
        method, _, rest = head.partition(b" ")
        target = rest.partition(b" ")[0].decode("latin-1").partition("?")[0]
        if method not in (b"GET", b"HEAD"):
            return _plain(HTTPStatus.METHOD_NOT_ALLOWED), True
        route = self._routes.get(target)
        if route is None:
            return _plain(HTTPStatus.NOT_FOUND), method == b"GET"
        try:
            return route(), method == b"GET"
        except Exception:  # a bug must not cost the master, nor leave the peer waiting
            log.exception("answering %s failed", target)
            return _plain(HTTPStatus.INTERNAL_SERVER_ERROR), True


def _plain(status: HTTPStatus) -> Response:
    return status.value, "text/plain; charset=utf-8", f"{status.phrase}\n".encode()


async def _write(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    response: Response,
    with_body: bool,
) -> None:
    status, content_type, body = response
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + (body if with_body else b""))
    if status == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
        # The rest of that head is unread: closing now would reset the connection, and
        # the client would see the reset instead of the answer. Read it away, bounded.
        writer.write_eof()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LINGER_TIMEOUT):
                for _ in range(LINGER_READS):
                    if not await reader.read(HEAD_LIMIT):
                        break
    writer.close()  # once all of it is written
    await writer.wait_closed()
