"""The app model's runtime in-process: how a refusal is logged, how a departure is named."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest
import socketio

from sockd.app import ConnectionRejected
from sockd.worker.app_model.disconnect_reason import socketio_reason
from sockd.worker.app_model.runtime import NamespaceRuntime
from sockd.worker.app_model.session import SessionReader


def refuse_with(error: Exception, caplog: pytest.LogCaptureFixture) -> str:
    """Connect through a connection middleware that raises ``error``; returns the log."""

    async def gate(ctx: Any, next: Any) -> None:
        raise error

    runtime = NamespaceRuntime(
        SimpleNamespace(io=SimpleNamespace(server=None)),  # type: ignore[arg-type]
        "/",
        connection_middleware=[gate],
        packet_middleware=[],
        routes={},
        sessions=SessionReader("secret", "session", 60),
    )
    caplog.set_level(logging.INFO, "sockd.app")
    with pytest.raises(socketio.exceptions.ConnectionRefusedError) as refused:
        asyncio.run(runtime.on_connect("sid1", {"PATH_INFO": "/socket.io/"}, {}))
    assert refused.value.error_args["message"] == str(error)
    return caplog.text


def test_a_plain_exception_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = refuse_with(RuntimeError("gate crashed"), caplog)
    assert "refused by connection middleware: RuntimeError: gate crashed" in text
    assert "Traceback (most recent call last)" in text
    assert "raise error" in text, "the traceback shows where the middleware raised"
    assert "NoneType: None" not in text


def test_a_refusal_on_purpose_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    text = refuse_with(ConnectionRejected("a name is required", {"max": 32}), caplog)
    assert "ConnectionRejected: a name is required" in text
    assert "Traceback" not in text and "NoneType: None" not in text


@pytest.mark.parametrize(
    ("library", "engine_open", "expected"),
    [
        ("client disconnect", True, "client namespace disconnect"),
        ("client disconnect", False, "transport close"),
        ("server disconnect", True, "server namespace disconnect"),
        ("server disconnect", False, "server shutting down"),
        ("transport close", False, "transport close"),
        ("transport error", False, "transport error"),
        ("ping timeout", False, "ping timeout"),
        ("something new", True, "something new"),
        (None, False, None),
    ],
)
def test_python_socketio_reasons_get_socketio_names(
    library: str | None, engine_open: bool, expected: str | None
) -> None:
    assert socketio_reason(library, engine_open) == expected
