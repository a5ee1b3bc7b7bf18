"""Show handlers the real client address.

python-engineio's ASGI driver fills ``environ["REMOTE_ADDR"]`` with a fixed
``127.0.0.1``; the real peer is in the ASGI scope (uvicorn puts the address the master
determined there). :func:`with_real_address` wraps the driver's ``translate_request`` so
both agree.
"""

from __future__ import annotations

from typing import Any

from sockd.worker.hot_path.request_body import Message, Translate


def with_real_address(translate: Translate) -> Translate:
    """``translate`` with the scope's client as ``REMOTE_ADDR`` and ``REMOTE_PORT``."""

    async def translate_request(scope: Message, receive: Any, send: Any) -> Message:
        environ = await translate(scope, receive, send)
        client = scope.get("client")
        if environ and client:
            environ["REMOTE_ADDR"] = client[0]
            environ["REMOTE_PORT"] = str(client[1])
        return environ

    return translate_request
