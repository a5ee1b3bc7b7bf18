"""``--bind`` takes TCP addresses and Unix socket paths (``unix:PATH``)."""

from __future__ import annotations

import os

import pytest

from sockd.config.bind import BindAddress


def test_unix_paths_are_made_absolute_and_written_back_as_given() -> None:
    assert BindAddress.parse("unix:/run/sockd-app/app.sock") == BindAddress(
        path="/run/sockd-app/app.sock"
    )
    relative = BindAddress.parse("unix:app.sock")
    assert relative.path == os.path.join(os.getcwd(), "app.sock")
    assert relative.is_unix and str(relative) == f"unix:{relative.path}"
    assert BindAddress.parse(str(relative)) == relative, "the worker reads it back"


def test_tcp_addresses_are_unchanged() -> None:
    assert BindAddress.parse("127.0.0.1:7001") == BindAddress("127.0.0.1", 7001)
    assert str(BindAddress.parse("[::1]:7001")) == "[::1]:7001"
    assert not BindAddress.parse(":7001").is_unix


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unix:", "expected unix:PATH"),
        ("unix:/" + "x" * 120, "at most 107 bytes"),
        ("nowhere", "expected HOST:PORT or unix:PATH"),
    ],
)
def test_bad_addresses_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BindAddress.parse(text)
