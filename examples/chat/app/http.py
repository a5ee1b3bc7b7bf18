"""The chat's HTTP side: a login that puts the name in the session.

sockd serves this ASGI app on the chat's port, beside Socket.IO and app/public/, inside
Starlette's SessionMiddleware with the [session] settings: the name set here is what
``ctx.session`` holds when the page's socket connects (see the auth middleware).
"""

from __future__ import annotations

import json
from typing import Any

from app.names import check_name
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

#: A login body is a few bytes of JSON; read no more than this.
MAX_BODY = 1024


async def login(request: Request) -> JSONResponse:
    """``POST /login {"name": ...}``: 200 ``{"name": shown name}``, or 400 with the reason."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return JSONResponse({"error": "the request is too large"}, status_code=413)
    try:
        name = check_name(_json_object(body).get("name"))
    except ValueError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    request.session["name"] = name
    return JSONResponse({"name": name})


async def logout(request: Request) -> JSONResponse:
    request.session.clear()
    return JSONResponse({})


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ValueError('send a JSON object such as {"name": "ada"}')
    return data


app = Starlette(
    routes=[Route("/login", login, methods=["POST"]), Route("/logout", logout, methods=["POST"])]
)
