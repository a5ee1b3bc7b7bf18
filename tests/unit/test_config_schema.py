"""Settings validation and merging, on real TOML files in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from sockd.config.loader import ConfigError, load_settings
from sockd.config.schema import RedisSettings


def write(root: Path, name: str, text: str) -> None:
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / name).write_text(text)


def test_layers_merge_table_by_table(tmp_path: Path) -> None:
    write(tmp_path, "config.default.toml", "[cluster]\nworkers = 4\nport = 7100\n")
    write(tmp_path, "config.staging.toml", "[cluster]\nport = 7200\n")
    settings = load_settings(tmp_path, "staging", {"cluster": {"sticky": True}})
    assert (settings.cluster.workers, settings.cluster.port, settings.cluster.sticky) == (
        4,
        7200,
        True,
    )
    assert load_settings(tmp_path, "other").cluster.port == 7100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cluster]\nworkerz = 2\n", "unknown key 'cluster.workerz'"),
        ("[io.init]\ntransports = ['carrier-pigeon']\n", "io.init.transports.0"),
        ('[io.namespace.chat]\nconnection_middleware = ["a"]\n', 'must start with "/"'),
        ("[cluster\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "config.default.toml", text)
    with pytest.raises(ConfigError, match=r"config\.default\.toml") as error:
        load_settings(tmp_path, "prod")
    assert message in str(error.value)


def test_redis_url_from_parts_quotes_the_password() -> None:
    assert RedisSettings(host="10.0.0.5", port=6380, db=2).to_url() == "redis://10.0.0.5:6380/2"
    assert RedisSettings(password="p@ss/word").to_url() == "redis://:p%40ss%2Fword@127.0.0.1:6379/0"
    assert RedisSettings(url="rediss://r:6379/1", host="ignored").to_url() == "rediss://r:6379/1"
