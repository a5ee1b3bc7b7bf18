"""Long-polling answers: ``ok`` for a POST, and one GET at a time.

Spec: a POST that delivered its packets is answered ``ok`` (HTTP 200). A second GET while
one is pending breaks the protocol: the session is closed, the pending GET receives the
close packet ``1`` and the second GET gets HTTP 400 (so do later ones). python-engineio
(4.11-4.15) answers ``OK``, and lets two GETs wait on the same queue, each receiving
whatever comes first.
"""

from __future__ import annotations

from typing import Any

import engineio
from engineio import exceptions
from engineio.async_socket import AsyncSocket

from sockd.worker.protocol.closing import fail_session


class OkAnswer(engineio.AsyncServer):
    """The body of a response without packets (POST, OPTIONS) is ``ok``."""

    def _ok(self, packets: list[Any] | None = None, *args: Any, **kwargs: Any) -> Any:
        response = super()._ok(packets, *args, **kwargs)
        if packets is None:
            response["response"] = b"ok"
        return response


class SinglePoll(AsyncSocket):
    """A GET arriving while another is pending closes the session."""

    _polling: bool = False

    async def handle_get_request(self, environ: dict[str, Any]) -> Any:
        if environ["asgi.scope"]["type"] == "websocket":  # an upgrade, not a poll
            return await super().handle_get_request(environ)
        if self._polling:
            await fail_session(self)
            raise exceptions.EngineIOError("a second GET while one is pending")
        self._polling = True
        try:
            return await super().handle_get_request(environ)
        finally:
            self._polling = False
