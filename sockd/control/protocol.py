"""The control socket's wire format: one JSON object per line, one request and one reply.

Requests are ``{"command": "status" | "reload" | "stop", ...}``; replies carry
``"ok": true`` and the command's fields, or ``"ok": false`` and a one-line ``"error"``.
"""

from __future__ import annotations

import json
from typing import Any

#: Upper bound of one message, so a stray client cannot make the master buffer much.
MAX_MESSAGE = 1 << 20


class ProtocolError(ValueError):
    """The peer sent something that is not one JSON object."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a JSON object")
    return message
