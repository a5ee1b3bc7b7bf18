"""A socket's handshake as Node's ``socket.handshake`` shows it, from the request python-socketio
kept for its Engine.IO session (its WSGI-style environ) and the session's start
(session_time.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs


def handshake(environ: dict[str, Any], connected_at: float | None) -> dict[str, Any]:
    query_string = str(environ.get("QUERY_STRING", ""))
    query = {
        name: values[0] if len(values) == 1 else values
        for name, values in parse_qs(query_string, keep_blank_values=True).items()
    }
    path = str(environ.get("PATH_INFO", ""))
    return {
        "headers": {
            key[5:].lower().replace("_", "-"): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        },
        "query": query,
        "address": environ.get("REMOTE_ADDR", ""),
        "secure": environ.get("wsgi.url_scheme") == "https",
        "url": f"{path}?{query_string}" if query_string else path,
        "issued": round(connected_at * 1000) if connected_at else None,
        "time": (datetime.fromtimestamp(connected_at, UTC).isoformat() if connected_at else None),
    }
