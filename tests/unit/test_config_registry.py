"""The registry: one declaration per setting, from which names, variables and flags derive."""

from __future__ import annotations

from collections import Counter

import pytest

from sockd.config.bind import BindAddress
from sockd.config.io import NamespaceSettings, RedisSettings, redacted_url
from sockd.config.registry import BY_NAME, REGISTRY, SECTIONS, Settings, assemble, value_of
from sockd.config.serialize import HIDDEN, settings_from_data, settings_to_data
from sockd.config.values import coerce


def test_every_default_is_a_valid_value_of_its_setting() -> None:
    for declared in REGISTRY:
        if declared.default is None:
            continue
        assert coerce(declared.type, declared.default) == declared.default, declared.name
        if declared.check is not None:
            assert declared.check(declared.default) == declared.default, declared.name


def test_names_variables_and_flags_are_unique() -> None:
    for attribute in ("name", "variable"):
        counts = Counter(getattr(declared, attribute) for declared in REGISTRY)
        assert [name for name, count in counts.items() if count > 1] == []
    flags = Counter(flag for declared in REGISTRY for flag in declared.flags)
    assert [flag for flag, count in flags.items() if count > 1] == []


def test_variables_derive_from_table_and_key() -> None:
    assert BY_NAME["cluster.workers"].variable == "SOCKD_WORKERS"
    assert BY_NAME["io.init.ping_interval"].variable == "SOCKD_IO_INIT_PING_INTERVAL"
    assert BY_NAME["session.secret"].variable == "SOCKD_SESSION_SECRET"
    assert BY_NAME["cluster.workers"].flags == ("-w", "--workers")
    assert (
        BY_NAME["cluster.workers"].ways_to_set() == "[cluster] workers (--workers, SOCKD_WORKERS)"
    )


def test_sections_sit_where_the_files_write_them() -> None:
    assert [(s.table, s.optional) for s in SECTIONS] == [
        ("cluster", False),
        ("io.init", False),
        ("io.redis", True),
        ("io.recovery", False),
        ("session", False),
    ]


def test_secrets_are_declared_so() -> None:
    assert {d.name for d in REGISTRY if d.secret} == {
        "io.redis.url",
        "io.redis.password",
        "session.secret",
    }


def test_settings_cross_the_wire_unchanged() -> None:
    settings = assemble(
        {
            "cluster.workers": 3,
            "cluster.bind": (BindAddress("::1", 7001),),
            "cluster.trusted_proxy": ("10.0.0.0/8",),
            "io.init.transports": ("websocket",),
            "io.init.cookie": {"name": "io", "path": "/"},
            "io.redis.password": "p@ss",
            "session.secret": "s3cret",
        },
        frozenset({"io.redis"}),
        {
            "io.namespace": {"/chat": NamespaceSettings(("auth",), ())},
            "io.middleware": {"auth": {"limit": 3, "nested": {"a": [1, 2]}}},
        },
    )
    assert settings_from_data(settings_to_data(settings)) == settings
    assert settings_from_data(settings_to_data(Settings())) == Settings()


def test_shown_settings_hide_secrets_that_are_set() -> None:
    settings = assemble(
        {"io.redis.url": "redis://:pw@r:6379/0", "session.secret": "s3cret"},
        frozenset({"io.redis"}),
    )
    shown = settings_to_data(settings, hide_secrets=True)
    assert shown["io"]["redis"]["url"] == HIDDEN
    assert shown["session"]["secret"] == HIDDEN
    assert shown["io"]["redis"]["password"] is None  # not set: nothing to hide
    assert "pw" not in repr(shown) and "s3cret" not in repr(shown)


def test_value_of_an_absent_optional_section_is_its_default() -> None:
    assert Settings().io.redis is None
    assert value_of(Settings(), BY_NAME["io.redis.port"]) == 6379


def test_redis_url_from_parts_quotes_the_password() -> None:
    assert RedisSettings(host="10.0.0.5", port=6380, db=2).to_url() == "redis://10.0.0.5:6380/2"
    assert RedisSettings(password="p@ss/word").to_url() == "redis://:p%40ss%2Fword@127.0.0.1:6379/0"
    assert RedisSettings(url="rediss://r:6379/1", host="ignored").to_url() == "rediss://r:6379/1"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@10.0.0.5:6380/0", "redis://:***@10.0.0.5:6380/0"),
        ("rediss://user:hunter2@r/1", "rediss://user:***@r/1"),
        ("redis://10.0.0.5:6380/0", "redis://10.0.0.5:6380/0"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
    ],
)
def test_redis_urls_in_messages_hide_the_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
