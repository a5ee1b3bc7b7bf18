"""The command line's end of the control socket: one request, one reply, bounded in time."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from sockd.control.protocol import MAX_MESSAGE, ProtocolError, decode, encode
from sockd.control.runtime import NotRunning
from sockd.errors import UserError


class CommandFailed(UserError):
    """The master answered, and said no (a reload that was aborted, say)."""

    exit_code = 1


class NoAnswer(UserError):
    """The master took the request but did not answer in time (a reload still rolling)."""

    exit_code = 4


def request(path: Path, message: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Send ``message`` to the master at ``path``; its reply, or a one-line error."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
            sock.sendall(encode(message))
            reply = decode(_read_line(sock))
        except (FileNotFoundError, ConnectionRefusedError):
            raise NotRunning(f"no sockd answers at {path}") from None
        except TimeoutError:
            raise NoAnswer(
                f"no answer from sockd at {path} within {timeout:g}s; it may still be at work "
                "(see `sockd status`)"
            ) from None
        except (OSError, ProtocolError) as exc:
            raise UserError(f"control socket {path}: {exc}") from None
    if not reply.get("ok"):
        raise CommandFailed(str(reply.get("error", "the master refused without a reason")))
    return reply


def _read_line(sock: socket.socket) -> bytes:
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ProtocolError("the master closed the connection without an answer")
        data += chunk
        if len(data) > MAX_MESSAGE:
            raise ProtocolError("answer too long")
    return bytes(data)
