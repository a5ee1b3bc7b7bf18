"""The handshake reads the session cookie wherever Starlette (which sets it) reads it."""

from __future__ import annotations

import base64
import logging

import itsdangerous
import pytest
from starlette.requests import Request as StarletteRequest

from sockd.worker.app_model.session import SessionReader
from tests.harness import starlette_session_cookie

SECRET = "unit-secret"
SESSION = {"name": "alice", "n": 1}


def starlette_reads(cookie_header: str) -> dict[str, str]:
    """The cookies a Starlette app sees for this header (what SessionMiddleware looks in)."""
    scope = {"type": "http", "headers": [(b"cookie", cookie_header.encode("latin-1"))]}
    return dict(StarletteRequest(scope).cookies)


@pytest.mark.parametrize(
    "neighbours",
    [
        pytest.param(["name=John Doe"], id="space in a value"),
        pytest.param(['prefs={"theme": "dark", "size": 2}'], id="JSON value"),
        pytest.param(["flag", "a=b=c"], id="no name, two equals signs"),
        pytest.param(['quoted="a\\"b"', "empty="], id="quoted and empty"),
    ],
)
def test_the_session_survives_non_standard_neighbours(neighbours: list[str]) -> None:
    session_cookie = starlette_session_cookie(SESSION, SECRET)
    header = "; ".join([*neighbours, session_cookie])
    assert "session" in starlette_reads(header), "the case must be one Starlette reads"
    assert SessionReader(SECRET, "session", 3600).read(header) == SESSION
    header_first = "; ".join([session_cookie, *neighbours])
    assert SessionReader(SECRET, "session", 3600).read(header_first) == SESSION


def test_another_cookie_name_is_honoured() -> None:
    value = starlette_session_cookie(SESSION, SECRET).split("=", 1)[1]
    header = f"session=not-ours; chat_session={value}"
    assert SessionReader(SECRET, "chat_session", 3600).read(header) == SESSION


@pytest.mark.parametrize("header", [None, "", "other=1", "session="])
def test_absent_session_is_empty(header: str | None) -> None:
    assert SessionReader(SECRET, "session", 3600).read(header) == {}


def test_forged_or_expired_sessions_are_empty_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = starlette_session_cookie(SESSION, "another-secret")
    caplog.set_level(logging.WARNING, "sockd.session")
    assert SessionReader(SECRET, "session", 3600).read(f"x=y z; {forged}", "10.0.0.1") == {}
    assert "ignoring a session cookie from 10.0.0.1" in caplog.text
    current = starlette_session_cookie(SESSION, SECRET)
    assert SessionReader(SECRET, "session", -1).read(current) == {}


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]"])
def test_a_signed_value_that_is_no_json_object_is_empty(payload: bytes) -> None:
    value = itsdangerous.TimestampSigner(SECRET).sign(base64.b64encode(payload)).decode()
    assert SessionReader(SECRET, "session", 3600).read(f"session={value}") == {}
