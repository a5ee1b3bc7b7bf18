"""Finding the app's code in its directory: controllers, middleware, router, generate_id.

Modules are imported as ``app.io.controller.<name>`` with the app directory on
``sys.path``, so they can import each other the usual way.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from sockd.errors import UserError
from sockd.worker.app_model.controller import Controller, Handler, method_handler


class AppCodeError(UserError):
    """The app's code is missing a piece or fails to import; names the file."""


class ControllerGroup:
    """``app.io.controller.<file>``: its handlers as attributes (or nested groups)."""

    def __init__(self, path: str, members: dict[str, Any]) -> None:
        self._path = path
        self._members = members

    def __getattr__(self, name: str) -> Any:
        try:
            return self._members[name]
        except KeyError:
            known = ", ".join(sorted(self._members)) or "none"
            raise AttributeError(
                f"{self._path} has no handler {name!r} (it has: {known})"
            ) from None

    def __dir__(self) -> list[str]:
        return sorted(self._members)


def add_to_path(root: Path) -> None:
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def import_app_module(root: Path, dotted: str) -> ModuleType:
    """Import ``app.…`` from the app directory; a failure names the file and the error."""
    try:
        return importlib.import_module(dotted)
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        path = root / (dotted.replace(".", "/") + ".py")
        raise AppCodeError(f"{path} failed to import: {type(exc).__name__}: {exc}{where}") from None


def load_controllers(root: Path) -> ControllerGroup:
    """Every module under ``app/io/controller/``, as nested groups of handlers."""
    return _load_group(root, root / "app" / "io" / "controller", "app.io.controller")


def _load_group(root: Path, directory: Path, dotted: str) -> ControllerGroup:
    members: dict[str, Any] = {}
    if directory.is_dir():
        for entry in sorted(directory.iterdir()):
            name = entry.stem
            if name.startswith("_"):
                continue
            if entry.is_dir():
                members[name] = _load_group(root, entry, f"{dotted}.{name}")
            elif entry.suffix == ".py":
                module = import_app_module(root, f"{dotted}.{name}")
                members[name] = _controller_module(root, entry, module)
    return ControllerGroup(str(directory.relative_to(root)), members)


def _controller_module(root: Path, path: Path, module: ModuleType) -> ControllerGroup:
    relative = str(path.relative_to(root))
    classes = [
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, Controller)
        and value is not Controller
        and value.__module__ == module.__name__
    ]
    if len(classes) > 1:
        names = ", ".join(cls.__name__ for cls in classes)
        raise AppCodeError(f"{relative} defines several Controller classes ({names}); keep one")
    handlers: dict[str, Handler]
    if classes:
        cls = classes[0]
        handlers = {
            name: method_handler(cls, name)
            for name, member in inspect.getmembers(cls, inspect.iscoroutinefunction)
            if not name.startswith("_")
        }
    else:
        handlers = {
            name: value
            for name, value in vars(module).items()
            if inspect.iscoroutinefunction(value)
            and not name.startswith("_")
            and value.__module__ == module.__name__
        }
    return ControllerGroup(relative, handlers)


def load_middleware(root: Path, name: str, namespace: str, kind: str) -> ModuleType:
    """The module of middleware ``name``; a missing file is an error naming it."""
    path = root / "app" / "io" / "middleware" / f"{name}.py"
    if not path.is_file():
        raise AppCodeError(
            f"{kind} {name!r} of namespace {namespace!r} needs the file {path}, which is missing"
        )
    module = import_app_module(root, f"app.io.middleware.{name}")
    if not callable(getattr(module, "middleware", None)):
        raise AppCodeError(
            f"{path} must define middleware(app, options) returning async def (ctx, next)"
        )
    return module


def optional_module(root: Path, relative: str) -> ModuleType | None:
    """``app/<relative>.py`` if the app has it."""
    if not (root / "app" / f"{relative}.py").is_file():
        return None
    return import_app_module(root, "app." + relative.replace("/", "."))
