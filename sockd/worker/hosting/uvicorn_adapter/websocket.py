"""sockd's part of uvicorn's WebSocket protocol (websockets-sansio), and the direct write's
way to it.

The connection state of uvicorn's ``WebSocketsSansIOProtocol`` (``queue``, ``writable``,
``request``, ``response``, ``start_keepalive``, ``disconnected``, ``pause_writing``,
``handle_parser_exception``) is an internal, in this form since uvicorn 0.52.1 (write
backpressure and the closing handshake came then): :class:`SockdWebSocket` puts lighter
queues in, lets go of the handshake once it is done, reads frames sent before the app
accepted only once it did, counts failed connections as client errors, and writes a frame
from plain code when nothing waits (``send_now``, which the direct write reaches through
:func:`direct_sender`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.protocol import Side, State

from sockd.worker.hosting import client_errors
from sockd.worker.hot_path.lean_queue import LeanEvent, LeanQueue

Address = tuple[str, int]


class SockdWebSocket:
    """sockd's part of the WebSocket protocol (composed in front of uvicorn's
    websockets-sansio class): the real client address, lighter queues, the handshake let go
    once done, and :meth:`send_now`."""

    # The attributes of uvicorn's WebSocketsSansIOProtocol used here (its internals).
    queue: Any
    writable: Any
    request: Any
    response: Any
    conn: Any
    transport: Any
    disconnected: bool
    close_sent: bool
    handshake_initiated: bool
    handshake_complete: bool
    initial_response: Any
    client: Address | None

    def __init__(self, *args: Any, real_client: Address, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.real_client = real_client
        self._early = b""  # frames that came before the handshake completed
        # Same logic, a fraction of the memory (sockd/worker/hot_path/lean_queue.py).
        self.queue = LeanQueue()
        self.writable = LeanEvent()
        self.writable.set()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self.client = self.real_client

    def send_now(self, data: str | bytes) -> bool:
        """Write one message frame at once, as ``send`` would; False if it cannot now.

        ``send`` is a coroutine only to wait while the transport is paused; the worker's
        direct write (sockd/worker/hot_path/direct_write.py) calls this from plain code and
        queues the packet instead when it returns False. A text frame is built once for
        all the connections a broadcast writes the same text to (:class:`SharedFrames`).
        """
        if (
            self.disconnected
            or self.close_sent
            or not self.handshake_complete
            or self.initial_response is not None
            or not self.writable.is_set()
        ):
            return False
        conn = self.conn
        if type(data) is str:
            frame = SHARED_FRAMES.frame(data)
            if frame is not None and _plain_text_frames(conn):
                self.transport.write(frame)
                return True
        try:
            if isinstance(data, bytes):
                conn.send_binary(data)
            else:
                conn.send_text(data.encode())
        except InvalidState:
            return False
        self.transport.write(b"".join(conn.data_to_send()))
        return True

    def data_received(self, data: bytes) -> None:
        if self.handshake_initiated and not self.handshake_complete:
            # Frames sent before the app accepted wait for it, unread: fed to websockets
            # then, a bad one failed the connection without the close frame uvicorn expects
            # (an AssertionError, a traceback per connection).
            self._early += data
            self.transport.pause_reading()
            return
        super().data_received(data)  # type: ignore[misc]

    def handle_parser_exception(self) -> None:
        # A frame that breaks the protocol, or a message over the limit (1009).
        failed = self.conn.parser_exc
        if failed is not None:  # (uvicorn's own refusal of invalid UTF-8 is counted apart)
            client_errors.note(f"WebSocket failed: {type(failed).__name__}", failed)
            # Its traceback keeps what was being read (up to the limit, inflated) for as
            # long as the connection object lives.
            failed.__traceback__ = None
        super().handle_parser_exception()  # type: ignore[misc]

    def start_keepalive(self) -> None:
        # Called once the handshake response is written: the parsed request's and the
        # response's headers (~3 KiB) are not used again (the scope has its own copy).
        # websockets' parser keeps the request for the connection's lifetime, so its
        # headers are emptied in place.
        self.request.headers.clear()
        self.request = self.response = None
        super().start_keepalive()  # type: ignore[misc]
        early, self._early = self._early, b""
        self.transport.resume_reading()
        if early:
            self.data_received(early)


def _plain_text_frames(conn: Any) -> bool:
    """Whether websockets' ``send_text`` on ``conn`` would write exactly
    :class:`SharedFrames`' bytes: open, a server's, no extension (permessage-deflate), no
    fragmented message or write pending, no debug log."""
    return (
        conn.state is State.OPEN
        and not conn.extensions
        and not conn.writes
        and not conn.expect_continuation_frame
        and not conn.debug
        and conn.side is Side.SERVER
    )


class SharedFrames:
    """Text frames built once for the texts written again and again in a row (a
    broadcast's: 12.8% of a worker's CPU under fan-out was websockets building the same
    frame for each recipient, py-spy). A text written once (an ack) is not framed here.
    Measured (bench fan-out, 3 interleaved rounds against its base): 5.47 to 4.49 us of
    server CPU per delivery (0.82x), deliveries/s at capacity 1.11x; echo unchanged
    (0.99x in 5 rounds)."""

    def __init__(self) -> None:
        # The last text written, kept so that ``is`` cannot mistake another for it.
        self._seen: str | None = None
        self._shared: tuple[str | None, bytes] = (None, b"")

    def frame(self, text: str) -> bytes | None:
        """A server's unmasked, unfragmented text frame of ``text`` if it is the shared
        text or written a second time in a row; None the first time."""
        shared, frame = self._shared
        if shared is text:
            return frame
        if self._seen is not text:
            self._seen = text
            return None
        frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
        self._shared = (text, frame)
        return frame


#: The worker's shared frames (one loop, one thread).
SHARED_FRAMES = SharedFrames()


def direct_sender(asgi_send: Any) -> Callable[[str | bytes], bool] | None:
    """The ``send_now`` of the WebSocket whose ASGI ``send`` is ``asgi_send`` itself (no
    ASGI middleware in between, so none misses a frame), or None."""
    protocol = getattr(asgi_send, "__self__", None)  # a bound method of the protocol
    if isinstance(protocol, SockdWebSocket) and asgi_send == protocol.send:  # type: ignore[attr-defined]
        return protocol.send_now
    return None
