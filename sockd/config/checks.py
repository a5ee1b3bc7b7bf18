"""Checks for one setting's value (``check=`` of :func:`sockd.config.setting.setting`).

Each takes a value that is not None and returns it, possibly normalised (an absolute
path); a ValueError says what is wrong, without repeating the value.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any

from sockd.config.redis_url import parse_redis_url
from sockd.config.setting import Check


def at_least(low: float) -> Check:
    def check(value: float) -> float:
        if value < low:
            raise ValueError(f"must be at least {low:g}")
        return value

    return check


def above(low: float) -> Check:
    def check(value: float) -> float:
        if value <= low:
            raise ValueError(f"must be more than {low:g}")
        return value

    return check


def between(low: int, high: int) -> Check:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return check


def matches(pattern: str, what: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"must be {what}")
        return value

    return check


def not_empty(value: Any) -> Any:
    if not value:
        raise ValueError("must not be empty")
    return value


def host(value: str) -> str:
    """An address or name to listen on; ``[::1]`` is taken as ``::1``."""
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if not value:
        raise ValueError("must not be empty")
    if ":" in value:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            raise ValueError(f"{value!r} is neither a host name nor an IP address") from None
    return value


def networks(value: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or CIDR networks."""
    for text in value:
        try:
            ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{text!r} is not an address or CIDR network") from None
    return tuple(text.strip() for text in value)


def absolute_path(value: str) -> str:
    """Paths are taken from where sockd was started (a daemon keeps that directory too)."""
    return os.path.abspath(value)


def existing_file(value: str) -> str:
    path = os.path.abspath(value)
    if not os.path.isfile(path):
        raise ValueError(f"no such file: {path}")
    return path


def redis_url(value: str) -> str:
    parse_redis_url(value)
    return value
