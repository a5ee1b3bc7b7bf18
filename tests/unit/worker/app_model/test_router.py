"""``app.io``: routes per namespace; a duplicate, a handler that is no coroutine function or
a namespace without its slash is an error naming it."""

from __future__ import annotations

import pytest

from sockd.worker.app_model.context import Context
from sockd.worker.app_model.loader import AppCodeError, ControllerGroup
from sockd.worker.app_model.router import IO


async def handler(ctx: Context) -> None:
    pass


async def other(ctx: Context) -> None:
    pass


def io() -> IO:
    return IO(ControllerGroup("app/io/controller", {}), server=None)


def test_routes_live_in_their_namespace_and_chain() -> None:
    app_io = io()
    app_io.route("say", handler).route("join", other)
    app_io.of("/admin").route("say", other)
    assert app_io.of("/").routes == {"say": handler, "join": other}
    assert app_io.of("/admin").routes == {"say": other}
    assert app_io.of("/admin") is app_io.of("/admin")
    assert sorted(app_io.namespaces) == ["/", "/admin"]


def test_a_duplicate_route_is_an_error_naming_event_and_namespace() -> None:
    app_io = io()
    app_io.of("/chat").route("say", handler)
    with pytest.raises(AppCodeError, match="duplicate route: event 'say' in namespace '/chat'"):
        app_io.of("/chat").route("say", other)
    app_io.route("say", other)  # the same event in another namespace is fine


@pytest.mark.parametrize(
    "bad",
    [lambda ctx: None, "chat.say", None, handler.__call__],
    ids=["plain function", "a string", "None", "a method-wrapper"],
)
def test_a_handler_must_be_a_coroutine_function(bad: object) -> None:
    with pytest.raises(AppCodeError, match=r"route 'say' in namespace '/': the handler must be"):
        io().route("say", bad)  # type: ignore[arg-type]


def test_a_namespace_starts_with_a_slash() -> None:
    with pytest.raises(AppCodeError, match="namespace 'chat' must start with \"/\""):
        io().of("chat")
