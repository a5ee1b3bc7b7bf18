"""``--sticky-key sid``: route by the Engine.IO session id in the request line.

Workers tag the ids they generate with their slot (``sockd/sid_tag.py``); a
request carrying ``sid=`` goes to that slot whatever its source address, and
one without (a new session) to the least-loaded slot. Only the request line is
needed, so the peek is short.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from sockd.supervisor.routing.keys.peek import Verdict
from sockd.supervisor.routing.sticky_key import Route
from sockd.wire.handoff import Handoff
from sockd.wire.sid_tag import slot_of


def session_id(request_line: bytes) -> str | None:
    """The ``sid`` query parameter of an HTTP request line, if any.

    The query is cut from the target by hand: ``urlsplit`` refuses targets such as
    ``//[x?sid=1`` (ValueError: Invalid IPv6 URL), which any client can send.
    """
    parts = request_line.split(b" ")
    if len(parts) != 3 or b"sid=" not in parts[1]:
        return None
    query = parts[1].decode("latin-1").partition("?")[2].partition("#")[0]
    values = parse_qs(query).get("sid")
    return values[0] if values else None


def sid_keys(data: bytes, meta: Handoff) -> Verdict | None:
    """The inspector of the peek stage for ``sid``."""
    end = data.find(b"\r\n")
    if end < 0:
        return None
    sid = session_id(data[:end])
    owner = slot_of(sid) if sid else None
    return Verdict(meta, Route(owner=owner))
