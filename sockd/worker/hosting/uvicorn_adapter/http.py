"""sockd's part of uvicorn's HTTP protocol (httptools): the real client address, and each
request head bounded in front of the parser.

The HTTP protocol computes ``client`` from the transport in ``connection_made`` (and the
WebSocket protocol again after an upgrade): both are subclassed to put back the address the
master determined (a PROXY header's, a trusted X-Forwarded-For). The head's bounds
(:mod:`sockd.worker.hosting.request_head`) are applied to the bytes before httptools
keeps them; the parser's callbacks (``on_message_complete``) and uvicorn's
(``on_response_complete``, ``cycle``, ``pipeline``) say where a request ends and whether
answers are still on their way.
"""

from __future__ import annotations

import functools
from typing import Any

from sockd.worker.hosting import client_errors
from sockd.worker.hosting.request_head import HeadGuard, HeadLimits, Refusal, refusal_response
from sockd.worker.hosting.uvicorn_adapter.websocket import Address, SockdWebSocket


def sockd_http(http_class: type, ws_class: type | None, limits: HeadLimits) -> Any:
    """``http_class`` (and its WebSocket upgrade) showing ``real_client`` as the client, with
    each request head bounded by ``limits`` (sockd/worker/hosting/request_head.py)."""
    ws_protocol = (
        type("SockdWebSocketProtocol", (SockdWebSocket, ws_class), {}) if ws_class else None
    )

    class SockdHTTP(http_class):  # type: ignore[misc, valid-type]
        real_client: Address
        #: A refusal waiting for the answers to the requests before it.
        _refusal: tuple[int | None, str] | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self.client = self.real_client
            if ws_protocol is not None:
                self.ws_protocol_class = functools.partial(
                    ws_protocol, real_client=self.real_client
                )
            self._head = HeadGuard(limits, self.loop, self._refuse)

        def data_received(self, data: bytes) -> None:
            if self._refusal is not None:
                return  # refused: what follows is not read
            # A head goes to httptools on its own, so that the bytes after it are read as
            # what they are: a body, the next request (scanned again), or the first frames
            # after a WebSocket upgrade (which uvicorn would drop).
            while self._head.reading:
                end = self._head.feed(data)
                if end is None:
                    break
                if isinstance(end, Refusal):
                    self._refuse(end.status, end.reason)
                    return
                super().data_received(data[:end])
                data = data[end:]
                protocol = self.transport.get_protocol()
                if not data or self.transport.is_closing():
                    return
                if protocol is not self:  # upgraded to WebSocket
                    protocol.data_received(data)
                    return
            super().data_received(data)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._head.expect_next()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._refusal is not None and not self._answering():
                self._refuse(*self._refusal)

        def connection_lost(self, exc: Exception | None) -> None:
            self._head.stop()
            super().connection_lost(exc)

        def _answering(self) -> bool:
            return bool(self.pipeline) or (
                self.cycle is not None and not self.cycle.response_complete
            )

        def _refuse(self, status: int | None, reason: str) -> None:
            """Answer ``status`` (None: nothing) and close, once the answers to the
            requests before are written; meanwhile nothing more is read."""
            if self.transport.is_closing():
                return
            if self._refusal is None:
                client_errors.note(
                    f"refused {status or 'silently'}: {reason}", client_errors.peer(self.client)
                )
            self._head.stop()
            if self._answering():
                self._refusal = (status, reason)
                self.transport.pause_reading()
                return
            if status is not None:
                self.transport.write(refusal_response(status, reason))
            self.transport.close()

    return SockdHTTP
