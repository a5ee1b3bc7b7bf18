"""Exceptions an app raises on purpose."""

from __future__ import annotations

from typing import Any


class ConnectionRejected(Exception):
    """Raise in connection middleware to refuse a client.

    The client receives ``connect_error`` with ``message`` and, if given,
    ``data`` (any other exception sends its message, and ``data`` if it has
    such an attribute).
    """

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.data = data
