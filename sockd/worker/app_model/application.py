"""Building the app of an app directory: server, controllers, router, middleware."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

import socketio

from sockd.config.registry import Settings
from sockd.config.session import DEVELOPMENT_ENVS
from sockd.worker.app_model.generate_id import install_generate_id
from sockd.worker.app_model.http import load_http_app
from sockd.worker.app_model.loader import (
    AppCodeError,
    add_to_path,
    load_controllers,
    load_middleware,
    optional_module,
)
from sockd.worker.app_model.middleware import Middleware
from sockd.worker.app_model.router import IO
from sockd.worker.app_model.runtime import NamespaceRuntime
from sockd.worker.app_model.session import SessionReader
from sockd.worker.compat import install as compat

log = logging.getLogger("sockd.app")

PUBLIC_DIR = "app/public"


class Application:
    """``app``: what the router, middleware factories and ``ctx.app`` see."""

    def __init__(self, root: Path, env: str, config: Settings, io: IO) -> None:
        self.root = root
        self.env = env
        self.config = config
        self.io = io


def build_application(root: Path, env: str, settings: Settings) -> tuple[Any, Application]:
    """Load the app under ``root``; returns the ASGI app to serve and the Application."""
    add_to_path(root)
    init = settings.io.init
    server = compat.AsyncServer(async_mode="asgi", **init.server_options())
    app = Application(root, env, settings, IO(load_controllers(root), server))

    router = optional_module(root, "router")
    if router is not None:
        setup = getattr(router, "router", None)
        if not callable(setup):
            raise AppCodeError(f"{root / 'app' / 'router.py'} must define router(app)")
        try:
            setup(app)
        except AppCodeError:
            raise
        except AttributeError as exc:  # a handler the controller does not have
            raise AppCodeError(f"{root / 'app' / 'router.py'}: {exc}") from None

    secret = _session_secret(settings, env)
    sessions = SessionReader(secret, settings.session.cookie, settings.session.max_age)
    namespaces = set(settings.io.namespace) | set(app.io.namespaces) | {"/"}
    for name in sorted(namespaces):
        config = settings.io.namespace.get(name)
        NamespaceRuntime(
            app,
            name,
            connection_middleware=_middleware(
                app, name, config.connection_middleware if config else (), "connection_middleware"
            ),
            packet_middleware=_middleware(
                app, name, config.packet_middleware if config else (), "packet_middleware"
            ),
            routes=app.io.of(name).routes,
            sessions=sessions,
            skip_middlewares=settings.io.recovery.skip_middlewares,
        ).bind(server)

    # Precedence: the Socket.IO path, then files of app/public/, then app/http.py, then 404.
    asgi: Any = socketio.ASGIApp(
        server,
        other_asgi_app=load_http_app(
            root, secret, settings.session.cookie, settings.session.max_age
        ),
        socketio_path=init.path,
        static_files=_static_files(root),
    )
    generate_id = optional_module(root, "io/generate_id")
    if generate_id is not None:
        factory = getattr(generate_id, "generate_id", None)
        if not callable(factory):
            raise AppCodeError(f"{root / 'app/io/generate_id.py'} must define generate_id(request)")
        asgi = install_generate_id(server, factory, asgi, init.path)
    return asgi, app


def _middleware(
    app: Application, namespace: str, names: tuple[str, ...], kind: str
) -> list[Middleware]:
    built = []
    for name in names:
        module = load_middleware(app.root, name, namespace, kind)
        options = app.config.io.middleware.get(name, {})
        middleware = module.middleware(app, options)
        if not callable(middleware):
            raise AppCodeError(
                f"middleware {name!r}: middleware(app, options) must return a function"
            )
        built.append(middleware)
    return built


def _session_secret(settings: Settings, env: str) -> str:
    """The key that signs sessions, for the HTTP side and the handshake alike."""
    secret = settings.session.secret
    if secret is None:
        if env not in DEVELOPMENT_ENVS:
            raise AppCodeError(f"[session] secret is required in env {env!r}")
        log.warning(
            "no [session] secret in env %r: sessions are signed with a key of this worker's "
            "own, so other workers and restarts do not read them",
            env,
        )
        secret = secrets.token_hex(32)
    return secret


def _static_files(root: Path) -> dict[str, Any]:
    """Serve ``app/public/`` (index.html at ``/``, favicon.ico at ``/favicon.ico``), as Egg
    serves its public folder and its site file."""
    public = root / PUBLIC_DIR
    if not public.is_dir():
        return {}
    files: dict[str, Any] = {"/public": str(public)}
    if (public / "index.html").is_file():
        files["/"] = str(public / "index.html")
    if (public / "favicon.ico").is_file():
        files["/favicon.ico"] = {
            "filename": str(public / "favicon.ico"),
            "content_type": "image/x-icon",
        }
    return files
