"""One address the master listens on, as ``--bind`` and ``[cluster] bind`` write it."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import ClassVar

UNIX_PREFIX = "unix:"
#: ``sun_path`` holds 108 bytes including the terminating NUL.
MAX_UNIX_PATH = 107


@dataclass(frozen=True)
class BindAddress:
    """A TCP address (``HOST:PORT``, ``[V6]:PORT``, ``:PORT`` for every interface) or a
    Unix socket (``unix:PATH``, for a proxy on the same host)."""

    #: What the settings reference and error messages call it.
    DESCRIPTION: ClassVar[str] = "HOST:PORT or unix:PATH"

    host: str = ""
    port: int = 0
    #: The Unix socket's absolute path; None for TCP.
    path: str | None = None

    @classmethod
    def parse(cls, text: str) -> BindAddress:
        """Read ``text``; a ValueError says what is wrong with it."""
        if text.startswith(UNIX_PREFIX):
            return cls.unix(text[len(UNIX_PREFIX) :])
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ValueError(
                "expected HOST:PORT or unix:PATH, e.g. 127.0.0.1:7001, [::1]:7001 or "
                "unix:/run/sockd-app/app.sock"
            )
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            if not _is_ipv6(host):
                raise ValueError(f"{host!r} is not an IPv6 address")
        elif ":" in host:
            raise ValueError("write IPv6 addresses in brackets, e.g. [::1]:7001")
        port = int(port_text)
        if port > 65535:
            raise ValueError("the port must be between 0 and 65535")
        return cls(host or "0.0.0.0", port)

    @classmethod
    def unix(cls, path: str) -> BindAddress:
        """A Unix socket at ``path``, taken from the current directory when relative."""
        if not path:
            raise ValueError("expected unix:PATH, e.g. unix:/run/sockd-app/app.sock")
        absolute = os.path.abspath(path)
        if len(os.fsencode(absolute)) > MAX_UNIX_PATH:
            raise ValueError(f"a Unix socket path holds at most {MAX_UNIX_PATH} bytes")
        return cls(path=absolute)

    @property
    def is_unix(self) -> bool:
        return self.path is not None

    def __str__(self) -> str:
        if self.path is not None:
            return f"{UNIX_PREFIX}{self.path}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


@dataclass(frozen=True)
class TcpAddress(BindAddress):
    """A TCP address only (``--metrics``, ``--health``): scrapers and load balancers connect
    over TCP."""

    DESCRIPTION: ClassVar[str] = "HOST:PORT"

    @classmethod
    def parse(cls, text: str) -> BindAddress:
        if text.startswith(UNIX_PREFIX):
            raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:9100 (not a Unix socket)")
        return super().parse(text)
