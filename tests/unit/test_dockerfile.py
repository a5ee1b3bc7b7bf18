"""The container image's recipe: hadolint finds nothing, and its ENTRYPOINT + CMD are
a valid `sockd start` for the app it copies in (PID-1 behaviour: tests/test_pid1.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.harness import REPO_ROOT, run_sockd

DOCKERFILE = REPO_ROOT / "Dockerfile"


def test_hadolint_is_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_entrypoint_and_cmd_are_a_valid_start_of_the_copied_app() -> None:
    text = DOCKERFILE.read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    app = re.search(r"^ARG APP=(\S+)$", text, re.M).group(1)  # type: ignore[union-attr]
    assert entrypoint == ["sockd", "start"]
    assert cmd[0] == "/srv/app", "CMD names the directory the app is copied to"
    # The same flags against the app the image copies in, as `sockd config` checks them.
    result = run_sockd("config", str(REPO_ROOT / app), *cmd[1:])
    assert result.returncode == 0, result.stderr
    effective = json.loads(result.stdout)["cluster"]
    assert (effective["host"], effective["sticky"]) == ("0.0.0.0", True)
    assert re.search(r"^USER \d+$", text, re.M), "a numeric non-root user"
    assert "HEALTHCHECK" in text and "sockd" in text.split("HEALTHCHECK", 1)[1].split("\n")[1]
