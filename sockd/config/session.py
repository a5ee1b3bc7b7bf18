"""``[session]``: the signed session cookie read at the handshake."""

from __future__ import annotations

from dataclasses import dataclass

from sockd.config import checks
from sockd.config.setting import setting

#: Development environments: a missing session secret is tolerated there.
DEVELOPMENT_ENVS = ("local", "dev", "development", "unittest")


@dataclass(frozen=True)
class SessionSettings:
    secret: str | None = setting(
        None,
        secret=True,
        help="Signing key, as the Starlette or FastAPI app that sets the cookie has it; "
        "required outside development environments (local, dev, development, unittest).",
    )
    cookie: str = setting("session", help="Name of the session cookie (Starlette's default).")
    max_age: int = setting(
        14 * 24 * 3600,
        check=checks.above(0),
        help="Oldest cookie signature accepted, in seconds (Starlette's default: 14 days).",
    )
