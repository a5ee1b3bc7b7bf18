"""What ``sockd start`` was pointed at: an app directory or a ``MODULE:ATTR``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sockd.errors import UserError

#: The folder that marks an app directory (egg-socket.io's layout).
APP_FOLDER = "app"


@dataclass(frozen=True)
class AppTarget:
    #: ``MODULE:ATTR`` of a plain python-socketio app, or None for an app directory.
    module_spec: str | None
    #: The app directory, or the directory a ``MODULE:ATTR`` is imported from.
    root: Path

    @property
    def is_directory_app(self) -> bool:
        return self.module_spec is None


def resolve_target(spec: str | None, app_dir: str | None) -> AppTarget:
    """Tell an app directory (default: the current one) from ``MODULE:ATTR``."""
    if spec and ":" in spec and not Path(spec).is_dir():
        return AppTarget(spec, Path(app_dir or ".").resolve())
    if app_dir is not None:
        raise UserError("--app-dir goes with MODULE:ATTR; for an app directory pass its path")
    root = Path(spec or ".").resolve()
    if not (root / APP_FOLDER).is_dir():
        raise UserError(
            f"{root} is not a sockd app directory (it has no {APP_FOLDER}/ folder); "
            "pass an app directory, or a python-socketio app as MODULE:ATTR"
        )
    return AppTarget(None, root)
