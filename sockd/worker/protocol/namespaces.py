"""Connecting to a namespace the server does not have answers ``Invalid namespace``.

Spec: a CONNECT to an unknown namespace is answered with the CONNECT_ERROR packet
``44/<ns>,{"message":"Invalid namespace"}`` (clients show ``message``). python-socketio
(5.16-5.18) answers ``44/<ns>,"Unable to connect"``, a bare string clients cannot read as
an error object. :func:`serves` is the library's own rule for which namespaces it accepts.
"""

from __future__ import annotations

from typing import Any

import socketio
from socketio import packet


def serves(sio: socketio.AsyncServer, namespace: str) -> bool:
    """Whether python-socketio accepts connections to ``namespace`` (its own rule)."""
    return (
        namespace in sio.handlers
        or namespace in sio.namespace_handlers
        or sio.namespaces == "*"
        or namespace in sio.namespaces
    )


class InvalidNamespace(socketio.AsyncServer):
    """Refuses an unknown namespace with the error object the spec prescribes."""

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> Any:
        namespace = namespace or "/"
        if serves(self, namespace):
            return await super()._handle_connect(eio_sid, namespace, data)
        error = self.packet_class(
            packet.CONNECT_ERROR, data={"message": "Invalid namespace"}, namespace=namespace
        )
        await self._send_packet(eio_sid, error)
        return None
