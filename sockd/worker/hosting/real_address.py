"""Show handlers the real client address.

python-engineio's ASGI driver fills ``environ["REMOTE_ADDR"]`` with a fixed
``127.0.0.1``; the real peer is in the ASGI scope. This wraps the driver's
``translate_request`` for one engine.io server so both agree.
"""

from __future__ import annotations

from typing import Any

import engineio


def install_real_client_address(eio: engineio.AsyncServer) -> None:
    translate = eio._async["translate_request"]

    async def translate_request(scope: dict[str, Any], receive: Any, send: Any) -> dict[str, Any]:
        environ = await translate(scope, receive, send)
        client = scope.get("client")
        if environ and client:
            environ["REMOTE_ADDR"] = client[0]
            environ["REMOTE_PORT"] = str(client[1])
        return environ

    eio._async = {**eio._async, "translate_request": translate_request}
