"""The fast layer's rules, enforced: no process is started and nothing sleeps.

Waits are tested by moving a clock (``tests/unit/clocks.py``); whatever needs a real
``sockd`` belongs in ``tests/e2e``.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

#: The one exception: the Dockerfile's test runs hadolint and ``sockd config``.
EXEMPT = frozenset({"test_dockerfile.py"})


@pytest.fixture(autouse=True)
def fast_layer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError(
            f"time.sleep({seconds}) in tests/unit: move a clock instead (tests/unit/clocks.py)"
        )

    def no_process(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a process started in tests/unit ({args[:1]}): that is tests/e2e")

    if request.path.name not in EXEMPT:
        monkeypatch.setattr(time, "sleep", no_sleep)
        monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
