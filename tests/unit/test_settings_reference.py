"""The settings reference (README table, config/config.default.toml) matches the registry."""

from __future__ import annotations

from pathlib import Path

from sockd.config.command_line import CommandLine
from sockd.config.loader import load
from sockd.config.registry import Settings
from tools.settings_reference import DEFAULT_CONFIG, README, default_config, readme_with_table

REGENERATE = "regenerate with: .venv/bin/python tools/settings_reference.py --write"


def test_readme_table_is_generated_from_the_registry() -> None:
    readme = README.read_text()
    assert readme == readme_with_table(readme), REGENERATE


def test_default_config_file_is_generated_from_the_registry() -> None:
    assert DEFAULT_CONFIG.read_text() == default_config(), REGENERATE


def test_default_config_file_sets_exactly_the_defaults(tmp_path: Path) -> None:
    """Read as an app's only config file, it changes nothing (a MODULE:ATTR app, so the
    app-layout and session rules stay out of the way)."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.default.toml").write_text(DEFAULT_CONFIG.read_text())
    line = CommandLine("config", "some_module:sio", str(tmp_path))
    loaded = load(line, {})
    assert loaded.options.settings == Settings()
    assert "cluster.workers" in loaded.given, "the file sets the settings that have defaults"
    assert loaded.options.settings.io.redis is None, "the [io.redis] table stays commented out"
