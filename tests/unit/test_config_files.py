"""Config files: layered by environment, every key checked, errors naming file and key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sockd.config.command_line import CommandLine
from sockd.config.given import ConfigError
from sockd.config.loader import load
from sockd.config.registry import Settings

MODULE_APP = "some_module:sio"  # never imported: loading settings does not touch the app


def write(root: Path, name: str, text: str) -> None:
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / name).write_text(text)


def settings(root: Path, env: str | None = None, **environ: str) -> Settings:
    return load(CommandLine("config", MODULE_APP, str(root), env), environ).options.settings


def test_layers_merge_key_by_key(tmp_path: Path) -> None:
    write(tmp_path, "config.default.toml", "[cluster]\nworkers = 4\nport = 7100\n")
    write(tmp_path, "config.staging.toml", "[cluster]\nport = 7200\n")
    staging = settings(tmp_path, "staging", SOCKD_STICKY="true").cluster
    assert (staging.workers, staging.port, staging.sticky) == (4, 7200, True)
    assert settings(tmp_path).cluster.port == 7100


def test_an_empty_redis_table_turns_redis_on(tmp_path: Path) -> None:
    assert settings(tmp_path).io.redis is None
    write(tmp_path, "config.default.toml", "[io.redis]\n")
    redis = settings(tmp_path).io.redis
    assert redis is not None and redis.to_url() == "redis://127.0.0.1:6379/0"


def test_open_tables_merge_across_files(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    write(
        tmp_path,
        "config.default.toml",
        '[session]\nsecret = "s"\n[io.namespace."/"]\nconnection_middleware = ["a"]\n'
        "[io.middleware.a]\nx = 1\ny = {z = 2}\n",
    )
    write(
        tmp_path,
        "config.prod.toml",
        '[io.namespace."/"]\npacket_middleware = ["b"]\n[io.middleware.a]\ny = {w = 3}\n',
    )
    io = load(CommandLine("config", str(tmp_path)), {}).options.settings.io
    assert io.namespace["/"].connection_middleware == ("a",)
    assert io.namespace["/"].packet_middleware == ("b",)
    assert io.middleware["a"] == {"x": 1, "y": {"z": 2, "w": 3}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cluster]\nworkerz = 2\n", "unknown key [cluster] workerz (did you mean workers?)"),
        ("[clustr]\nworkers = 2\n", "unknown table [clustr] (did you mean cluster?)"),
        ("workers = 2\n", "unknown key workers (settings sit in tables: [cluster] workers)"),
        ("[cluster]\nworkers = 0\n", "[cluster] workers = 0: must be between 1 and 1024"),
        ("[cluster]\nworkers = '2'\n", '[cluster] workers = "2": expected an integer'),
        ("[cluster]\nsticky_key = 'forwarded-for'\n", "expected one of 'ip', 'proxy-protocol'"),
        ("[cluster]\ntrusted_proxy = ['10.0.0.0/33']\n", "'10.0.0.0/33' is not an address"),
        ("[io.init]\ntransports = ['carrier-pigeon']\n", "'carrier-pigeon' in the list"),
        ('[io.namespace.chat]\nconnection_middleware = ["a"]\n', 'starts with "/", e.g. "/chat"'),
        ('[io.namespace."/"]\nmiddleware = ["a"]\n', "unknown key middleware"),
        ("[io.redis]\nurl = 'http://r:6379'\n", "[io.redis] url = (set): must start with redis://"),
        ("[cluster\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "config.default.toml", text)
    with pytest.raises(ConfigError) as error:
        settings(tmp_path)
    assert str(error.value).startswith(f"{tmp_path}/config/config.default.toml: ")
    assert message in str(error.value)


def test_file_paths_are_shown_as_written_from_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "config.prod.toml", "[cluster]\nworkers = 0\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^config/config\.prod\.toml: \[cluster\] workers = 0"):
        settings(tmp_path)


def test_relative_paths_are_taken_from_where_sockd_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "config.default.toml", "[cluster]\nlog_file = 'logs/sockd.log'\n")
    monkeypatch.chdir(tmp_path)
    assert settings(tmp_path).cluster.log_file == os.path.join(tmp_path, "logs", "sockd.log")
