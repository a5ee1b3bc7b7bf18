"""Finding an app's code in its directory, on real files: controllers (classes or plain
functions, nested folders), middleware modules, and one error naming the file for every
piece that is missing or broken."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sockd.worker.app_model.loader import (
    AppCodeError,
    add_to_path,
    load_controllers,
    load_middleware,
    optional_module,
)

#: The ``write`` fixture (tests/unit/worker/app_model/conftest.py).
Write = Callable[[str, str], None]


def controllers(root: Path) -> Any:
    add_to_path(root)
    return load_controllers(root)


def call(handler: Any, *args: Any) -> Any:
    ctx: Any = type("Ctx", (), {"args": list(args), "app": "the app"})()
    return asyncio.run(handler(ctx))


def test_a_controller_class_gives_its_public_coroutine_methods(
    app_root: Path, write: Write
) -> None:
    write(
        "app/io/controller/chat.py",
        """
        from sockd.app import Controller

        class Chat(Controller):
            async def say(self):
                return ["said", *self.ctx.args, self.app]

            async def _private(self):
                return "hidden"

            def sync_helper(self):
                return "not a handler"
        """,
    )
    chat = controllers(app_root).chat
    assert dir(chat) == ["say"]
    assert call(chat.say, "hi") == ["said", "hi", "the app"]


def test_plain_functions_and_nested_folders(app_root: Path, write: Write) -> None:
    write(
        "app/io/controller/admin/users.py",
        """
        from asyncio import sleep  # imported coroutine functions are not handlers

        async def ban(ctx):
            return f"banned {ctx.args[0]}"

        async def _helper(ctx):
            return None
        """,
    )
    write("app/io/controller/_shared.py", "async def hidden(ctx): ...\n")
    group = controllers(app_root)
    assert dir(group) == ["admin"]
    assert dir(group.admin.users) == ["ban"]
    assert call(group.admin.users.ban, "mallory") == "banned mallory"


def test_a_missing_handler_names_the_file_and_what_it_has(app_root: Path, write: Write) -> None:
    write("app/io/controller/chat.py", "async def say(ctx): ...\nasync def join(ctx): ...\n")
    with pytest.raises(AttributeError, match=r"app/io/controller/chat.py has no handler 'sey' "):
        controllers(app_root).chat.sey  # noqa: B018
    with pytest.raises(AttributeError, match=r"\(it has: join, say\)"):
        controllers(app_root).chat.sey  # noqa: B018


def test_several_controller_classes_in_one_file_are_an_error(app_root: Path, write: Write) -> None:
    write(
        "app/io/controller/chat.py",
        """
        from sockd.app import Controller

        class One(Controller):
            async def a(self): ...

        class Two(Controller):
            async def b(self): ...
        """,
    )
    with pytest.raises(
        AppCodeError, match=r"chat.py defines several Controller classes \(One, Two\)"
    ):
        controllers(app_root)


def test_a_module_that_fails_to_import_names_file_error_and_line(
    app_root: Path, write: Write
) -> None:
    write("app/io/controller/chat.py", "import json\n\nraise RuntimeError('boom')\n")
    with pytest.raises(AppCodeError) as error:
        controllers(app_root)
    message = str(error.value)
    assert f"{app_root}/app/io/controller/chat.py failed to import: RuntimeError: boom" in message
    assert "chat.py:3)" in message


def test_a_syntax_error_is_named_too(app_root: Path, write: Write) -> None:
    write("app/io/controller/chat.py", "async def say(ctx)\n    return 1\n")
    with pytest.raises(AppCodeError, match=r"chat.py failed to import: SyntaxError"):
        controllers(app_root)


def test_no_controller_folder_is_no_controllers(app_root: Path) -> None:
    assert dir(controllers(app_root)) == []


def test_middleware_is_found_by_name(app_root: Path, write: Write) -> None:
    write(
        "app/io/middleware/auth.py",
        """
        def middleware(app, options):
            async def auth(ctx, next):
                await next()
            return auth
        """,
    )
    add_to_path(app_root)
    module = load_middleware(app_root, "auth", "/", "connection_middleware")
    assert callable(module.middleware(None, {}))


def test_a_missing_middleware_file_names_kind_namespace_and_file(app_root: Path) -> None:
    with pytest.raises(AppCodeError) as error:
        load_middleware(app_root, "auth", "/chat", "connection_middleware")
    assert str(error.value) == (
        f"connection_middleware 'auth' of namespace '/chat' needs the file "
        f"{app_root}/app/io/middleware/auth.py, which is missing"
    )


def test_a_middleware_file_without_its_factory_is_an_error(app_root: Path, write: Write) -> None:
    write("app/io/middleware/filter.py", "async def filter(ctx, next): ...\n")
    add_to_path(app_root)
    with pytest.raises(AppCodeError, match=r"filter.py must define middleware\(app, options\)"):
        load_middleware(app_root, "filter", "/", "packet_middleware")


def test_optional_modules_are_none_when_absent(app_root: Path, write: Write) -> None:
    add_to_path(app_root)
    assert optional_module(app_root, "router") is None
    write("app/router.py", "def router(app):\n    app.routed = True\n")
    router = optional_module(app_root, "router")
    assert router is not None and callable(router.router)
