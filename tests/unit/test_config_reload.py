"""A reload reads the files anew under the start's command line: the command line never
changes by being read, and the settings the registry marks fixed keep their values."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from sockd.cli.app import dev_command_line, reload_options
from sockd.cli.setting_options import command_line
from sockd.config.command_line import Command, CommandLine
from sockd.config.given import ConfigError
from sockd.config.loader import load
from sockd.config.registry import REGISTRY
from sockd.config.reloading import FIXED, merge_reloaded


def app_with_config(root: Path, text: str) -> Path:
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "config.default.toml").write_text(text)
    return root


def start_line(root: Path, command: Command = "start", **flags: object) -> CommandLine:
    values = {"app_spec": "some_module:sio", "app_dir": str(root)}
    values.update({name.replace(".", "__"): value for name, value in flags.items()})
    return command_line(command, values)


def test_a_failed_reload_leaves_the_command_line_as_it_was(tmp_path: Path) -> None:
    """Regression: reading the flags emptied them, so after one aborted reload every later
    reload ran without the start's flags."""
    root = app_with_config(tmp_path, "[cluster]\nworkers = 2\n")
    line = start_line(root, **{"cluster.port": "7301", "cluster.log_level": "debug"})
    before = dict(line.given)
    (root / "config" / "config.default.toml").write_text("[cluster]\nworkerz = 2\n")
    with pytest.raises(ConfigError, match="unknown key"):
        reload_options(line, None)
    (root / "config" / "config.default.toml").write_text("[cluster]\nworkers = 3\n")
    cluster = reload_options(line, None).cluster
    assert (cluster.workers, cluster.port, cluster.log_level) == (3, 7301, "debug")
    assert dict(line.given) == before
    with pytest.raises(TypeError):
        line.given["cluster.port"] = line.given["cluster.log_level"]  # type: ignore[index]


def test_reload_workers_replaces_the_flag_from_then_on(tmp_path: Path) -> None:
    root = app_with_config(tmp_path, "")
    options = reload_options(start_line(root, **{"cluster.workers": "2"}), 5)
    assert options.cluster.workers == 5
    assert reload_options(options.flags, None).cluster.workers == 5
    with pytest.raises(ConfigError, match="sockd reload --workers 0: must be between"):
        options.flags.with_workers(0)


def test_fixed_settings_keep_their_values_and_are_named(tmp_path: Path) -> None:
    root = app_with_config(tmp_path, "")
    current = load(start_line(root, **{"cluster.port": "7001"}), {}).options
    current = dataclasses.replace(current, title="sockd-7001")  # the master's default
    changed = {"cluster.port": "7002", "cluster.log_format": "json", "cluster.workers": "4"}
    new = load(start_line(root, **changed), {"SOCKD_GRACEFUL_TIMEOUT": "5"}).options
    merged, ignored = merge_reloaded(current, new)
    assert sorted(ignored) == ["[cluster] log_format", "[cluster] port"]
    assert (merged.cluster.port, merged.cluster.log_format) == (7001, "text")
    assert (merged.cluster.workers, merged.cluster.graceful_timeout) == (4, 5.0)
    assert merged.title == "sockd-7001"


def test_an_unchanged_reload_warns_about_nothing(tmp_path: Path) -> None:
    """Regression: the title the master derived counted as a changed setting."""
    line = start_line(app_with_config(tmp_path, "[cluster]\nworkers = 2\n"))
    current = dataclasses.replace(load(line, {}).options, title="sockd-7001")
    merged, ignored = merge_reloaded(current, reload_options(line, None))
    assert ignored == [] and merged == current


def test_the_fixed_settings_are_the_registry_s() -> None:
    assert {d.name for d in FIXED} == {d.name for d in REGISTRY if not d.reloadable}
    assert {"cluster.bind", "cluster.sticky_key", "cluster.title"} <= {d.name for d in FIXED}
    assert "cluster.workers" not in {d.name for d in FIXED}


def test_dev_runs_one_worker_in_the_foreground_unless_told(tmp_path: Path) -> None:
    root = app_with_config(tmp_path, "[cluster]\nworkers = 4\ndaemon = true\nlog_file = 'x'\n")
    dev = load(dev_command_line(start_line(root, "dev")), {}).options
    assert (dev.cluster.workers, dev.cluster.daemon, dev.watch) == (1, False, True)
    assert dev.worker.env == "local"
    told = load(dev_command_line(start_line(root, "dev", **{"cluster.workers": "3"})), {}).options
    assert told.cluster.workers == 3
    assert reload_options(dev.flags, None).cluster.workers == 1  # and so does each reload
