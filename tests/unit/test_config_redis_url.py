"""The Redis URL forms: one server, Sentinel (python-socketio's form), Cluster."""

from __future__ import annotations

import re

import pytest

from sockd.config.io import redacted_url
from sockd.config.redis_url import ClusterNodes, SentinelService, Server, parse_redis_url


@pytest.mark.parametrize(
    "url", ["redis://r:6379/0", "rediss://:pw@r/1", "unix:///run/redis.sock?db=2", "REDIS://r"]
)
def test_one_server_is_left_to_redis_py(url: str) -> None:
    assert parse_redis_url(url) == Server(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (  # python-socketio's docstring example: the database, then the service name
            "redis+sentinel://user:pw@host1:1234,host2:2345/0/myredis",
            SentinelService((("host1", 1234), ("host2", 2345)), "myredis", 0, "user", "pw"),
        ),
        (
            "redis+sentinel://:p%40ss@10.0.0.6:26379/3/sockd",
            SentinelService((("10.0.0.6", 26379),), "sockd", 3, None, "p@ss"),
        ),
        # python-socketio names the master after its channel when the URL does not.
        ("redis+sentinel://s1,s2/", SentinelService((("s1", 26379), ("s2", 26379)), "socketio")),
        ("redis+sentinel://s1:5/2", SentinelService((("s1", 5),), "socketio", 2)),
        ("redis+sentinel://s1:5/0/", SentinelService((("s1", 5),), "socketio", 0)),
        ("redis+sentinel://[::1]:26380/0/m", SentinelService((("::1", 26380),), "m")),
    ],
)
def test_sentinel_urls_read_as_python_socketio_reads_them(
    url: str, expected: SentinelService
) -> None:
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis+cluster://a:7000,b:7001", ClusterNodes((("a", 7000), ("b", 7001)))),
        ("redis+cluster://u:pw@a/", ClusterNodes((("a", 6379),), "u", "pw")),
        ("redis+cluster://a:7000/0", ClusterNodes((("a", 7000),))),
    ],
)
def test_cluster_urls_name_some_of_the_nodes(url: str, expected: ClusterNodes) -> None:
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://:pw@r", "must start with redis://, rediss://, unix://, redis+sentinel:// or"),
        ("redis+sentinel://:pw@h:26379/mymaster", "the path is /DB/SERVICE_NAME (python-socket"),
        ("redis+sentinel://h/0/m/extra", "the path is /DB/SERVICE_NAME: it has more parts"),
        ("redis+cluster://a:7000/1", "a Redis Cluster has database 0 only"),
        ("redis+cluster://a:7000?ssl=true", "redis+cluster:// URLs take no ?options"),
        ("redis+sentinel://:pw@/0/m", "a host is missing"),
        ("redis+sentinel://a:1,,b:2", "a host is missing"),
        ("redis+sentinel://a:http", "'a:http': the port must be a number from 1 to 65535"),
        ("redis+cluster://a:0", "'a:0': the port must be a number from 1 to 65535"),
        ("redis+sentinel://::1:26379", "'::1:26379' is not HOST:PORT (bracket an IPv6 address"),
        ("redis+sentinel://[::1:26379", "is not a URL: Invalid IPv6 URL"),
        ("redis+sentinel://[::1]x:26379", "'[::1]x:26379' is not HOST:PORT ([ADDRESS]:PORT"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)) as refused:
        parse_redis_url(url)
    assert "pw" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "redis+sentinel://:pw@s1:26379,s2:26379/0/m",
            "redis+sentinel://:***@s1:26379,s2:26379/0/m",
        ),
        ("redis+cluster://u:pw@a:7000,[::1]:7001", "redis+cluster://u:***@a:7000,[::1]:7001"),
        ("redis+cluster://u@a:7000", "redis+cluster://u@a:7000"),
        ("redis+sentinel://s1,s2/0/m", "redis+sentinel://s1,s2/0/m"),
    ],
)
def test_urls_of_several_hosts_hide_the_password(url: str, shown: str) -> None:
    assert redacted_url(url) == shown
