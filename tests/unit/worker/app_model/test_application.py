"""An app directory built into a python-socketio app, in-process: the config's middleware
lists wrap the router's controllers in order, with their options, and each broken piece
stops the build with one error naming the file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sockd.config.command_line import CommandLine
from sockd.config.loader import load
from sockd.worker.app_model.application import Application, build_application
from sockd.worker.app_model.loader import AppCodeError
from tests.unit.worker.app_model.inprocess import PollingClient

#: The ``write`` fixture (tests/unit/worker/app_model/conftest.py).
Write = Callable[[str, str], None]

MIDDLEWARE = """
from app.journal import journal

def middleware(app, options):
    async def layer(ctx, next):
        journal.append(f"{options['tag']} in")
        await next()
        journal.append(f"{options['tag']} out")
    return layer
"""


def build(root: Path, env: str = "local", **environ: str) -> tuple[Any, Application]:
    settings = load(CommandLine("start", str(root), None, env), environ).options.settings
    return build_application(root, env, settings)


@pytest.fixture
def chat_app(write: Write) -> None:
    write(
        "config/config.default.toml",
        """
        [io.namespace."/"]
        connection_middleware = ["auth"]
        packet_middleware = ["outer", "inner"]

        [io.middleware.auth]
        tag = "auth"
        [io.middleware.outer]
        tag = "outer"
        [io.middleware.inner]
        tag = "inner"
        """,
    )
    write("app/journal.py", "journal = []\n")
    for name in ("auth", "outer", "inner"):
        write(f"app/io/middleware/{name}.py", MIDDLEWARE)
    write(
        "app/io/controller/chat.py",
        """
        from sockd.app import Controller

        class Chat(Controller):
            async def say(self):
                from app.journal import journal
                journal.append("controller")
                return {"said": self.ctx.args[0], "env": self.app.env}
        """,
    )
    write(
        "app/router.py",
        """
        def router(app):
            app.io.route("say", app.io.controller.chat.say)
            app.io.of("/free").route("say", app.io.controller.chat.say)
        """,
    )


@pytest.mark.usefixtures("chat_app")
def test_config_middleware_wraps_routed_controllers_in_order(app_root: Path) -> None:
    asgi, app = build(app_root)

    async def scenario() -> list[Any]:
        client = PollingClient(asgi, {})
        await client.connect()
        acks = [await client.call("say", "hi")]
        await client.connect("/free")  # a namespace with routes and no config
        acks.append(await client.call("say", "free", namespace="/free"))
        return acks

    acks = asyncio.run(scenario())
    assert acks == [[{"said": "hi", "env": "local"}], [{"said": "free", "env": "local"}]]
    from app.journal import journal  # the app's own module, imported as the worker does

    assert journal == [
        "auth in",
        "outer in",
        "inner in",
        "controller",
        "inner out",
        "outer out",
        "controller",  # /free has no middleware
    ]
    assert sorted(app.io.namespaces) == ["/", "/free"]


@pytest.mark.parametrize(
    ("router", "message"),
    [
        (
            "def router(app):\n    app.io.route('say', app.io.controller.chat.sey)\n",
            "router.py: app/io/controller/chat.py has no handler 'sey' (it has: say)",
        ),
        (
            "def router(app):\n    app.io.route('say', app.io.controller.chat.say)\n"
            "    app.io.route('say', app.io.controller.chat.say)\n",
            "duplicate route: event 'say' in namespace '/'",
        ),
        ("routes = []\n", "router.py must define router(app)"),
        ("import missing_module\n", "router.py failed to import: ModuleNotFoundError"),
    ],
    ids=["missing handler", "duplicate route", "no router function", "import error"],
)
def test_a_broken_router_names_the_problem(
    app_root: Path, write: Write, router: str, message: str
) -> None:
    write("app/io/controller/chat.py", "async def say(ctx): ...\n")
    write("app/router.py", router)
    with pytest.raises(AppCodeError) as error:
        build(app_root)
    assert message in str(error.value)


def test_a_middleware_factory_must_return_a_function(app_root: Path, write: Write) -> None:
    write("config/config.default.toml", '[io.namespace."/"]\npacket_middleware = ["filter"]\n')
    write("app/io/middleware/filter.py", "def middleware(app, options):\n    return None\n")
    with pytest.raises(AppCodeError, match=r"middleware 'filter': middleware\(app, options\)"):
        build(app_root)
