"""The session cookie, in Starlette's ``SessionMiddleware`` format.

An HTTP app on the same domain (Starlette, FastAPI) that sets the session with
the same secret is read here at the Socket.IO handshake: the cookie is
``itsdangerous.TimestampSigner(secret)`` over base64 of the JSON session. The Cookie
header is split by Starlette's own parser, so a cookie Starlette would read is read here
too, whatever other cookies of the site stand beside it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

import itsdangerous
from starlette.requests import cookie_parser

log = logging.getLogger("sockd.session")


class SessionReader:
    def __init__(self, secret: str, cookie: str, max_age: int) -> None:
        self._signer = itsdangerous.TimestampSigner(secret)
        self._cookie = cookie
        self._max_age = max_age

    def read(self, cookie_header: str | None, client: str | None = None) -> dict[str, Any]:
        """The session in the request's cookies; empty when absent, expired or forged."""
        value = cookie_parser(cookie_header).get(self._cookie) if cookie_header else None
        if not value:
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
