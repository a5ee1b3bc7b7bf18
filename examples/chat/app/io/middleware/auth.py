"""Connection middleware: a client must say who it is to connect, and is logged in and out.

The name comes from ``auth: {name}`` (any Socket.IO client) or from the session that the
login route of app/http.py set (the page). A refusal reaches the client as ``connect_error``
with the reason.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from app.names import MAX_NAME_LENGTH, check_name

from sockd.app import ConnectionRejected

log = logging.getLogger("chat")


def middleware(app: Any, options: dict[str, Any]):
    async def auth(ctx, next):
        raw = (ctx.auth or {}).get("name") if isinstance(ctx.auth, dict) else None
        try:
            name = check_name(raw if raw is not None else ctx.session.get("name"))
        except ValueError as error:
            raise ConnectionRejected(str(error), {"max_name_length": MAX_NAME_LENGTH}) from None
        ctx.state["name"] = name
        ctx.socket.data["name"] = name  # what other workers see of this socket (members)
        since = time.monotonic()
        log.info("%s connected (sid %s, %s)", name, ctx.socket.id, ctx.request.address)
        await next()  # the connection lives here; what follows runs once it is gone
        log.info(
            "%s disconnected (sid %s) after %.0fs", name, ctx.socket.id, time.monotonic() - since
        )

    return auth
