"""App directories written by the tests, imported as the worker imports them (``app.…``)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Write = Callable[[str, str], None]


@pytest.fixture
def app_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty app directory; ``sys.path`` and the imported ``app`` package are restored."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [name for name in sys.modules if name == "app" or name.startswith("app.")]:
        del sys.modules[name]


@pytest.fixture
def write(app_root: Path) -> Write:
    """Write a file of the app directory (dedented)."""

    def write(relative: str, source: str) -> None:
        path = app_root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        importlib.invalidate_caches()

    return write
