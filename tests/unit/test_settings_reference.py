"""The settings reference (README table, config/config.default.toml) matches the code,
and environment variables set settings between config files and flags."""

from __future__ import annotations

import json

import pytest

from sockd.config.environment import environment_overrides
from sockd.config.loader import load_settings
from sockd.config.reference import DEFAULT_CONFIG, README, default_config, readme_with_table
from sockd.errors import UserError
from tests.harness import REPO_ROOT, run_sockd

REGENERATE = "regenerate with: python -m sockd.config.reference --write"


def test_readme_table_is_generated_from_the_code() -> None:
    readme = README.read_text()
    assert readme == readme_with_table(readme), REGENERATE


def test_default_config_file_is_generated_from_the_code() -> None:
    assert DEFAULT_CONFIG.read_text() == default_config(), REGENERATE


def test_default_config_file_sets_exactly_the_defaults() -> None:
    from sockd.config.schema import Settings

    assert load_settings(REPO_ROOT, "none-such-env") == Settings()


def test_environment_variables_parse_as_toml_values() -> None:
    overrides = environment_overrides(
        {
            "SOCKD_WORKERS": "8",
            "SOCKD_STICKY": "true",
            "SOCKD_BIND": "127.0.0.1:7001, [::1]:7001",
            "SOCKD_LOG_LEVEL": "debug",
            "SOCKD_IO_INIT_TRANSPORTS": '["websocket"]',
            "SOCKD_ENV": "ignored-here",
            "HOME": "/root",
        }
    )
    assert overrides == {
        "cluster": {
            "workers": 8,
            "sticky": True,
            "bind": ["127.0.0.1:7001", "[::1]:7001"],
            "log_level": "debug",
        },
        "io": {"init": {"transports": ["websocket"]}},
    }


def test_unknown_sockd_variable_is_an_error() -> None:
    with pytest.raises(UserError, match="unknown environment variable SOCKD_WORKRES"):
        environment_overrides({"SOCKD_WORKRES": "8"})


def test_variables_sit_between_files_and_flags(tmp_path: pytest.TempPathFactory) -> None:
    app = REPO_ROOT / "tests" / "apps" / "eggapp"
    env = {"SOCKD_WORKERS": "3", "SOCKD_PORT": "7301", "SOCKD_IO_INIT_PING_TIMEOUT": "9"}
    shown = run_sockd("config", str(app), "--port", "7302", env=env)
    assert shown.returncode == 0, shown.stderr
    effective = json.loads(shown.stdout)
    assert effective["cluster"]["workers"] == 3
    assert effective["cluster"]["port"] == 7302  # the flag wins over the variable
    assert effective["io"]["init"]["ping_timeout"] == 9
