"""The container image's recipe: hadolint finds nothing, its ENV defaults are real settings,
and ENTRYPOINT + CMD + ENV make a valid `sockd start` of the app it copies in (PID-1
behaviour: tests/e2e/test_pid1.py)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from sockd.config.environment import OTHER_VARIABLES, variable_layer
from tests.harness import REPO_ROOT, run_sockd

DOCKERFILE = REPO_ROOT / "Dockerfile"


def instruction(name: str) -> str:
    """The arguments of the Dockerfile's one ``name`` instruction, continuations joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    match = re.search(rf"^{name}\s*(.+)$", text, re.M)
    assert match, f"no {name} in the Dockerfile"
    return match.group(1)


def image_environment() -> dict[str, str]:
    pairs = (item.split("=", 1) for item in shlex.split(instruction("ENV")))
    return {name: value for name, value in pairs}


def test_hadolint_is_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_env_defaults_are_settings_variables() -> None:
    sockd_variables = {k: v for k, v in image_environment().items() if k.startswith("SOCKD_")}
    assert {"SOCKD_HOST", "SOCKD_PORT", "SOCKD_WORKERS", "SOCKD_STICKY"} <= set(sockd_variables)
    given, warnings = variable_layer(sockd_variables)
    assert warnings == [], "every SOCKD_* variable of the image is a setting"
    assert len(given) == len(set(sockd_variables) - set(OTHER_VARIABLES))
    assert given["cluster.host"].value == "0.0.0.0"
    assert given["cluster.graceful_timeout"].value < 10, "drains within docker stop's 10 s"


def test_entrypoint_and_cmd_are_a_valid_start_of_the_copied_app() -> None:
    entrypoint = json.loads(instruction("ENTRYPOINT"))
    cmd = json.loads(instruction("CMD"))
    app = instruction("ARG APP=")
    assert entrypoint == ["sockd", "start"]
    assert cmd == ["/srv/app"], "CMD is the app directory alone: settings come from ENV"
    # The image's variables against the app it copies in, as `sockd config` checks them.
    environ = {k: v for k, v in image_environment().items() if k.startswith("SOCKD_")}
    result = run_sockd("config", str(REPO_ROOT / app), env=environ)
    assert result.returncode == 0, result.stderr
    effective = json.loads(result.stdout)["cluster"]
    assert (effective["host"], effective["port"], effective["sticky"]) == ("0.0.0.0", 7001, True)
    # A variable given at `docker run -e` replaces the image's.
    result = run_sockd("config", str(REPO_ROOT / app), env={**environ, "SOCKD_WORKERS": "8"})
    assert json.loads(result.stdout)["cluster"]["workers"] == 8
    text = DOCKERFILE.read_text()
    assert re.search(r"^USER \d+$", text, re.M), "a numeric non-root user"
    assert "HEALTHCHECK" in text and "sockd" in text.split("HEALTHCHECK", 1)[1].split("\n")[1]
