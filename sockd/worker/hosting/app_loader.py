"""Importing the user's app from ``MODULE:ATTR`` and finding its Socket.IO server (or, for
a bare python-engineio app, its Engine.IO server)."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import engineio
import socketio

from sockd.config.options import WorkerOptions
from sockd.errors import UserError

ASGIApp = Any  # an ASGI callable; typed loosely since apps bring their own types


class AppLoadError(UserError):
    """The app could not be loaded; the message says why in one line."""


@dataclass
class LoadedApp:
    asgi_app: ASGIApp
    #: The app's Socket.IO server; None for a bare python-engineio app.
    sio: socketio.AsyncServer | None
    #: The Engine.IO server: the Socket.IO server's, or the app's own.
    eio: engineio.AsyncServer


def _socketio_app(asgi_app: ASGIApp, sio: socketio.AsyncServer) -> LoadedApp:
    return LoadedApp(asgi_app, sio, sio.eio)


def load(options: WorkerOptions) -> LoadedApp:
    """The app a worker serves: an app directory, or ``MODULE:ATTR``."""
    if options.app.module_spec:
        return load_app(options.app.module_spec, str(options.app.root))
    from sockd.worker.app_model.application import build_application

    asgi_app, application = build_application(options.app.root, options.env, options.settings)
    return _socketio_app(asgi_app, application.io.server)


def load_app(spec: str, app_dir: str) -> LoadedApp:
    """Import ``spec`` and return the ASGI app to serve and its Socket.IO server.

    ``ATTR`` may be a ``socketio.AsyncServer`` (sockd wraps it in
    ``socketio.ASGIApp``), a ``socketio.ASGIApp``, or any ASGI app built around
    the module's one ``AsyncServer``; or, without Socket.IO, an ``engineio.AsyncServer``
    (wrapped in ``engineio.ASGIApp`` at its default path, ``/engine.io/``) or an
    ``engineio.ASGIApp`` around one.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise AppLoadError(f"app {spec!r}: expected MODULE:ATTR, e.g. examples.chat:sio")
    module = _import(module_name, app_dir)
    try:
        target = _get_attr(module, attr)
    except AttributeError:
        raise AppLoadError(f"app {spec!r}: module {module_name!r} has no {attr!r}") from None
    loaded = _as_loaded_app(spec, module, target)
    mode = loaded.eio.async_mode
    if mode != "asgi":
        raise AppLoadError(
            f"app {spec!r}: the AsyncServer runs in async_mode={mode!r}; create it with "
            f"{'engineio' if loaded.sio is None else 'socketio'}.AsyncServer(async_mode='asgi')"
        )
    return loaded


def _import(module_name: str, app_dir: str) -> ModuleType:
    sys.path.insert(0, os.path.abspath(app_dir))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise AppLoadError(
                f"cannot import app module {module_name!r}: no module named {exc.name!r} "
                f"under {os.path.abspath(app_dir)} (run sockd in the app's directory "
                "or pass --app-dir)"
            ) from None
        raise AppLoadError(_describe_import_failure(module_name, exc)) from None
    except Exception as exc:
        raise AppLoadError(_describe_import_failure(module_name, exc)) from None


def _describe_import_failure(module_name: str, exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"app module {module_name!r} failed to import: {type(exc).__name__}: {exc}{where}"


def _get_attr(module: ModuleType, dotted: str) -> Any:
    target: Any = module
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def _as_loaded_app(spec: str, module: ModuleType, target: Any) -> LoadedApp:
    if isinstance(target, socketio.AsyncServer):
        return _socketio_app(socketio.ASGIApp(target), target)
    if isinstance(target, socketio.Server):
        raise AppLoadError(
            f"app {spec!r} is a synchronous socketio.Server; sockd serves "
            "socketio.AsyncServer(async_mode='asgi')"
        )
    if isinstance(target, engineio.ASGIApp) and isinstance(
        target.engineio_server, socketio.AsyncServer
    ):
        return _socketio_app(target, target.engineio_server)
    if isinstance(target, engineio.AsyncServer):
        return LoadedApp(engineio.ASGIApp(target), None, target)
    if isinstance(target, engineio.ASGIApp) and isinstance(
        target.engineio_server, engineio.AsyncServer
    ):
        return LoadedApp(target, None, target.engineio_server)
    if isinstance(target, engineio.Server):
        raise AppLoadError(
            f"app {spec!r} is a synchronous engineio.Server; sockd serves "
            "engineio.AsyncServer(async_mode='asgi')"
        )
    if callable(target):
        servers = [v for v in vars(module).values() if isinstance(v, socketio.AsyncServer)]
        if len(servers) == 1:
            return _socketio_app(target, servers[0])
        engines = [v for v in vars(module).values() if isinstance(v, engineio.AsyncServer)]
        if not servers and len(engines) == 1:
            return LoadedApp(target, None, engines[0])
        raise AppLoadError(
            f"app {spec!r} is an ASGI app, but its module defines {len(servers)} "
            "socketio.AsyncServer objects at top level; sockd needs exactly one to "
            "install its bus (or point sockd at the AsyncServer itself)"
        )
    raise AppLoadError(
        f"app {spec!r} is a {type(target).__name__}, not a socketio.AsyncServer, an "
        "engineio.AsyncServer or an ASGI app"
    )
