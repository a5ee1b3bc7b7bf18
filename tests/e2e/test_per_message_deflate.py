"""WebSocket compression is off unless asked for: a deflate context per connection
roughly doubles an idle connection's memory (Node's socket.io defaults the same way)."""

from __future__ import annotations

import base64
import os
import socket

import pytest

from tests.harness import SockdLauncher


def negotiated_extensions(port: int) -> str:
    """The Sec-WebSocket-Extensions a browser-like upgrade request gets back."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed after {head!r}"
            head += chunk
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 101"), lines[0]
    return next(
        (
            line.split(":", 1)[1]
            for line in lines
            if line.lower().startswith("sec-websocket-extensions:")
        ),
        "",
    )


@pytest.mark.parametrize(("flags", "compressed"), [((), False), (("--per-message-deflate",), True)])
def test_compression_only_when_asked(
    sockd: SockdLauncher, flags: tuple[str, ...], compressed: bool
) -> None:
    server = sockd(*flags, workers=1)
    assert ("permessage-deflate" in negotiated_extensions(server.port)) is compressed
