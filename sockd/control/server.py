"""The master's end of the control socket.

The socket is created with mode 0600 inside a 0700 directory, and each peer's uid is
checked as well (``SO_PEERCRED``): only the user running sockd, or root, can drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sockd.control.protocol import MAX_MESSAGE, decode, encode

log = logging.getLogger("sockd.master")

#: How long a client may take to send its request.
REQUEST_TIMEOUT = 5.0
_PEERCRED = struct.Struct("3i")  # pid, uid, gid

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class ControlServer:
    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Bind the socket (replacing a stale one: the caller holds the title's lock)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous = os.umask(0o177)  # born 0600: no moment when others could connect
        try:
            sock.bind(str(self.path))
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(previous)
        os.chmod(self.path, 0o600)
        self._server = await asyncio.start_unix_server(self._serve, sock=sock, limit=MAX_MESSAGE)

    async def close(self) -> None:
        """Stop answering and remove the socket file; again, nothing (the file may be a
        new master's by then)."""
        if self._server is None:
            return
        self._server.close()
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not _peer_allowed(writer):
                reply: dict[str, Any] = {"ok": False, "error": "permission denied"}
            else:
                reply = await self._answer(reader)
            writer.write(encode(reply))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        try:
            line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT)
            request = decode(line)
        except (TimeoutError, ValueError) as exc:  # ProtocolError is a ValueError
            return {"ok": False, "error": f"bad request: {str(exc) or 'none in time'}"}
        try:
            return await self._handler(request)
        except Exception as exc:  # a bug must not cost the master, nor leave the client waiting
            log.exception("control request %r failed", request.get("command"))
            return {"ok": False, "error": f"the master failed to answer: {exc!r}"}


def _peer_allowed(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    _, uid, _ = _PEERCRED.unpack(raw)
    return uid in (0, os.geteuid())
