"""``SOCKD_*`` variables: between files and flags, unknown ones a warning, and the config
environment named by ``--env`` or ``SOCKD_ENV`` checked against the app's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sockd.config.command_line import CommandLine
from sockd.config.environment import resolve_env, variable_layer
from sockd.config.given import ConfigError, Given, Origin
from sockd.config.loader import load

MODULE_APP = "some_module:sio"


def test_variables_are_read_by_the_settings_types() -> None:
    given, warnings = variable_layer(
        {
            "SOCKD_WORKERS": "8",
            "SOCKD_STICKY": "true",
            "SOCKD_BIND": "127.0.0.1:7001, [::1]:7001",
            "SOCKD_LOG_LEVEL": "debug",
            "SOCKD_IO_INIT_TRANSPORTS": '["websocket"]',
            "SOCKD_TITLE": "",  # empty: unset
            "SOCKD_ENV": "not-a-setting",
            "HOME": "/root",
        }
    )
    assert warnings == []
    assert {name: value.value for name, value in given.items()} == {
        "cluster.workers": 8,
        "cluster.sticky": True,
        "cluster.bind": given["cluster.bind"].value,
        "cluster.log_level": "debug",
        "io.init.transports": ("websocket",),
    }
    assert [str(b) for b in given["cluster.bind"].value] == ["127.0.0.1:7001", "[::1]:7001"]
    assert given["cluster.workers"].where == "SOCKD_WORKERS"


def test_unknown_variables_are_warnings_naming_the_nearest() -> None:
    given, warnings = variable_layer({"SOCKD_WORKRES": "8", "SOCKD_DEPLOY_ID": "42"})
    assert given == {}
    assert warnings == [
        "unknown environment variable SOCKD_DEPLOY_ID ignored (no sockd setting has that name)",
        "unknown environment variable SOCKD_WORKRES ignored (did you mean SOCKD_WORKERS?)",
    ]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SOCKD_WORKERS": "eight"}, "SOCKD_WORKERS=eight: expected an integer"),
        ({"SOCKD_WORKERS": "0"}, "SOCKD_WORKERS=0: must be between 1 and 1024"),
        ({"SOCKD_STICKY_KEY": "forwarded-for"}, "SOCKD_STICKY_KEY=forwarded-for: expected one of"),
        ({"SOCKD_IO_INIT_PING_INTERVAL": "-1"}, "SOCKD_IO_INIT_PING_INTERVAL=-1: must be more"),
        ({"SOCKD_IO_REDIS_URL": "http://:pw@r"}, "SOCKD_IO_REDIS_URL=(set): must start with"),
    ],
)
def test_errors_name_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        variable_layer(environ)
    assert str(error.value).startswith(message)
    assert "pw" not in str(error.value)


def test_variables_sit_between_files_and_flags(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.default.toml").write_text("[cluster]\nworkers = 2\nport = 1\n")
    line = CommandLine(
        "config",
        MODULE_APP,
        str(tmp_path),
        given={"cluster.port": Given(7302, Origin.FLAG, "--port")},
    )
    environ = {"SOCKD_WORKERS": "3", "SOCKD_PORT": "7301"}
    cluster = load(line, environ).options.cluster
    assert (cluster.workers, cluster.port) == (3, 7302)


def make_app(root: Path, *envs: str) -> Path:
    (root / "config").mkdir(parents=True)
    for env in ("default", *envs):
        (root / "config" / f"config.{env}.toml").write_text("")
    return root


def test_a_named_environment_needs_its_file(tmp_path: Path) -> None:
    root = make_app(tmp_path, "staging", "overlay")
    assert resolve_env(None, {"SOCKD_ENV": "staging"}, root, "prod") == "staging"
    with pytest.raises(ConfigError) as error:
        resolve_env(None, {"SOCKD_ENV": "stagign"}, root, "prod")
    assert str(error.value) == (
        f"SOCKD_ENV=stagign: there is no config/config.stagign.toml in {root}; "
        "its environments: overlay, staging"
    )
    with pytest.raises(ConfigError, match=r"^--env prdo: there is no config/config\.prdo\.toml"):
        resolve_env("prdo", {"SOCKD_ENV": "staging"}, root, "prod")  # the flag wins


def test_default_environments_and_apps_without_config_need_no_file(tmp_path: Path) -> None:
    root = make_app(tmp_path / "app")
    assert resolve_env(None, {}, root, "prod") == "prod"
    assert resolve_env(None, {"SOCKD_ENV": "prod"}, root, "prod") == "prod"
    assert resolve_env("local", {}, root, "prod") == "local"
    assert resolve_env("anything", {}, tmp_path / "bare", "prod") == "anything"
    with pytest.raises(ConfigError, match=r"none besides config\.default\.toml"):
        resolve_env("staging", {}, root, "prod")


def test_an_environment_name_cannot_leave_the_config_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="an environment name is letters"):
        resolve_env("../../etc/x", {}, make_app(tmp_path), "prod")
