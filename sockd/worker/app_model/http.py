"""The HTTP side of an app directory: ``app/http.py``'s ASGI app, on the Socket.IO port.

Egg serves HTTP routes and Socket.IO from one app; here ``app/http.py`` defines ``app``, any
ASGI app (FastAPI, Starlette), and requests that neither Socket.IO nor a file of
``app/public/`` answers go to it (python-engineio's ``other_asgi_app`` hook). It runs inside
Starlette's ``SessionMiddleware`` built from ``[session]``, so ``request.session`` in a route
is the session every socket then reads at its handshake (``ctx.session``): a login route is
all it takes, and the secret is written once, in the config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.middleware.sessions import SessionMiddleware

from sockd.worker.app_model.loader import AppCodeError, optional_module

#: The module of the HTTP side, under ``app/``.
HTTP_MODULE = "http"


def load_http_app(root: Path, secret: str, cookie: str, max_age: int) -> Any | None:
    """``app/http.py``'s ``app`` inside the session middleware, or None without the file."""
    module = optional_module(root, HTTP_MODULE)
    if module is None:
        return None
    app = getattr(module, "app", None)
    if not callable(app):
        raise AppCodeError(
            f"{root / 'app' / 'http.py'} must define app, an ASGI app "
            "(e.g. app = Starlette(routes=[...]) or app = FastAPI())"
        )
    return SessionMiddleware(app, secret_key=secret, session_cookie=cookie, max_age=max_age)
