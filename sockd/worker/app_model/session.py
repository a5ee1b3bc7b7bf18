"""The session cookie, in Starlette's ``SessionMiddleware`` format.

An HTTP app on the same domain (Starlette, FastAPI) that sets the session with
the same secret is read here at the Socket.IO handshake: the cookie is
``itsdangerous.TimestampSigner(secret)`` over base64 of the JSON session.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from http.cookies import CookieError, SimpleCookie
from typing import Any

import itsdangerous

log = logging.getLogger("sockd.session")


class SessionReader:
    def __init__(self, secret: str, cookie: str, max_age: int) -> None:
        self._signer = itsdangerous.TimestampSigner(secret)
        self._cookie = cookie
        self._max_age = max_age

    def read(self, cookie_header: str | None, client: str | None = None) -> dict[str, Any]:
        """The session in the request's cookies; empty when absent, expired or forged."""
        value = _cookie_value(cookie_header, self._cookie)
        if value is None:
            return {}
        try:
            data = self._signer.unsign(value.encode(), max_age=self._max_age)
            session = json.loads(base64.b64decode(data))
        except itsdangerous.BadSignature as exc:
            log.warning("ignoring a session cookie from %s: %s", client or "?", exc)
            return {}
        except (binascii.Error, ValueError):
            log.warning("ignoring a session cookie from %s: not JSON", client or "?")
            return {}
        return session if isinstance(session, dict) else {}

    def write(self, session: dict[str, Any]) -> str:
        """A cookie value for ``session`` (what the HTTP side would set)."""
        data = base64.b64encode(json.dumps(session).encode())
        return self._signer.sign(data).decode()


def _cookie_value(header: str | None, name: str) -> str | None:
    if not header:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel is not None else None
