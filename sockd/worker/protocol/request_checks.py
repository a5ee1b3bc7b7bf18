"""Requests the protocol does not allow are answered 400 before python-engineio sees them.

Spec: every request names an allowed ``transport`` and ``EIO=4``; a handshake is a GET; a
request of a session is a GET or a POST. Anything else gets HTTP 400 (a WebSocket upgrade
is refused). python-engineio (4.11-4.15) treats a missing ``transport`` as ``polling`` (200), only
checks ``EIO`` on the handshake (200 without it afterwards), and answers other methods 405.
OPTIONS stays with the library: it is the CORS preflight.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import engineio

from sockd.worker.hosting import client_errors

Scope = dict[str, Any]

#: Methods the protocol uses, with and without a session (OPTIONS: CORS preflight).
SESSION_METHODS = frozenset({"GET", "POST", "OPTIONS"})
HANDSHAKE_METHODS = frozenset({"GET", "OPTIONS"})


def query_params(scope: Scope) -> dict[str, list[str]]:
    """The request's query parameters, parsed as python-engineio parses them."""
    return urllib.parse.parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))


def request_problem(scope: Scope, transports: list[str]) -> str | None:
    """Why the protocol forbids this request, or None when it is allowed."""
    query = query_params(scope)
    if query.get("transport", [""])[0] not in transports:
        return "Transport unknown"
    if query.get("EIO") != ["4"]:
        return "Unsupported protocol version"
    method = scope.get("method", "GET")  # a WebSocket scope has no method: it is a GET
    if "sid" not in query and method not in HANDSHAKE_METHODS:
        return "Bad handshake method"
    if method not in SESSION_METHODS:
        return "Bad request"
    return None


class RequestChecks(engineio.AsyncServer):
    """Answers a request the protocol forbids with 400, in the library's own format."""

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        scope, receive, send = args
        problem = request_problem(scope, self.transports)
        if problem is None:
            return await super().handle_request(scope, receive, send)
        client_errors.note(f"refused 400: {problem}", scope.get("method", "WebSocket"))
        environ = await self._async["translate_request"](scope, receive, send)
        if environ:  # empty when the client went away before its request arrived
            await self._make_response(self._bad_request(problem), environ)
        return None
