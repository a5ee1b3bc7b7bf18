"""Reading a setting's value by its type: TOML values from files, text from flags and
variables (sockd/config/values.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pytest

from sockd.config.bind import BindAddress
from sockd.config.values import coerce, describe, from_text

Choice = Literal["ip", "sid"]


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        (int, "8", 8),
        (float, "30", 30.0),
        (float, "0.5", 0.5),
        (bool, "true", True),
        (bool, "False", False),
        (bool, "0", False),
        (str, "0.0.0.0", "0.0.0.0"),
        (str, '"quoted"', "quoted"),
        (str, "8", "8"),  # a text setting stays text, whatever it looks like
        (str | None, "x", "x"),
        (int | None, "12", 12),
        (Choice, "sid", "sid"),
        (tuple[str, ...], "10.0.0.0/8, 192.168.0.1", ("10.0.0.0/8", "192.168.0.1")),
        (tuple[str, ...], '["a", "b"]', ("a", "b")),
        (tuple[str, ...], "one", ("one",)),
        (tuple[Choice, ...], "ip", ("ip",)),
        (tuple[BindAddress, ...], "[::1]:7001", (BindAddress("::1", 7001),)),
        (
            tuple[BindAddress, ...],
            "127.0.0.1:1,:2",
            (BindAddress("127.0.0.1", 1), BindAddress("0.0.0.0", 2)),
        ),
        (str | tuple[str, ...] | None, "*", "*"),
        (str | tuple[str, ...] | None, "https://a.example", "https://a.example"),
        (
            str | tuple[str, ...] | None,
            "https://a.example,https://b.example",
            ("https://a.example", "https://b.example"),
        ),
        (str | Mapping[str, Any] | None, '{name = "io", path = "/"}', {"name": "io", "path": "/"}),
        (str | Mapping[str, Any] | None, "io", "io"),
    ],
)
def test_text_is_read_by_the_type(kind: Any, text: str, value: Any) -> None:
    assert from_text(kind, text) == value


@pytest.mark.parametrize(
    ("kind", "text", "problem"),
    [
        (int, "eight", "expected an integer"),
        (int, "1.5", "expected an integer"),
        (float, "soon", "expected a number"),
        (bool, "maybe", "expected true or false"),
        (Choice, "forwarded", "expected one of 'ip', 'sid'"),
        (tuple[Choice, ...], "ip,carrier-pigeon", "'carrier-pigeon' in the list: expected one of"),
        (tuple[BindAddress, ...], "::1:7001", "write IPv6 addresses in brackets"),
        (tuple[BindAddress, ...], "[nope]:1", "'nope' is not an IPv6 address"),
        (tuple[BindAddress, ...], "host:99999", "the port must be between 0 and 65535"),
    ],
)
def test_bad_text_says_what_was_expected(kind: Any, text: str, problem: str) -> None:
    with pytest.raises(ValueError) as error:
        from_text(kind, text)
    assert problem in str(error.value)


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        (int, True, "expected an integer"),  # TOML booleans are no numbers
        (float, "30", "expected a number"),  # nor quoted ones, in a file
        (str, 8, "expected a string"),
        (tuple[str, ...], "a", "expected a list of strings"),
        (int | None, "x", "expected an integer"),
    ],
)
def test_file_values_are_not_converted_between_types(kind: Any, value: Any, problem: str) -> None:
    with pytest.raises(ValueError) as error:
        coerce(kind, value)
    assert problem in str(error.value)


def test_file_values_become_immutable() -> None:
    assert coerce(tuple[str, ...], ["a"]) == ("a",)
    assert coerce(float, 3) == 3.0 and isinstance(coerce(float, 3), float)
    assert coerce(int | None, None) is None


def test_descriptions_for_the_reference() -> None:
    assert describe(tuple[BindAddress, ...]) == "a list of HOST:PORT or unix:PATH"
    assert describe(float | None) == "a number"
    assert describe(tuple[Choice, ...]) == "a list of 'ip', 'sid'"
