"""Cluster requests on the control channel: a routing line, then the body.

The master routes a request to the other workers and an answer to the worker that asked
by the short JSON line in front (``{"id", "to"}`` from a worker, ``{"id", "from", "slot"}``
from the master). It never parses the body, which may be a large chunk of an answer.
"""

from __future__ import annotations

import json
from typing import Any

from sockd.wire.frames import FrameError, Kind, encode_frame

#: Longest routing line accepted: a few small fields.
MAX_ROUTING = 512


def routed(routing: dict[str, Any], body: bytes) -> bytes:
    """A frame's payload: the routing line, a newline, the body."""
    return json.dumps(routing, separators=(",", ":")).encode() + b"\n" + body


def encode_routed(kind: Kind, routing: dict[str, Any], body: bytes) -> bytes:
    """One whole frame of :func:`routed`."""
    return encode_frame(kind, routed(routing, body))


def split_routed(payload: bytes) -> tuple[dict[str, Any], bytes]:
    """The routing line (a JSON object) and the body; FrameError if malformed."""
    end = payload.find(b"\n", 0, MAX_ROUTING + 1)
    if end < 0:
        raise FrameError("a cluster frame without its routing line")
    try:
        routing = json.loads(payload[:end])
    except ValueError as exc:
        raise FrameError(f"a cluster frame's routing line is not JSON: {exc}") from None
    if not isinstance(routing, dict):
        raise FrameError("a cluster frame's routing line is not a JSON object")
    return routing, payload[end + 1 :]
