"""One address the master listens on, as ``--bind`` and ``[cluster] bind`` write it."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class BindAddress:
    """A TCP address: ``HOST:PORT``, ``[V6]:PORT``, or ``:PORT`` for every interface."""

    #: What the settings reference and error messages call it.
    DESCRIPTION: ClassVar[str] = "HOST:PORT"

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> BindAddress:
        """Read ``text``; a ValueError says what is wrong with it."""
        host, sep, port_text = text.rpartition(":")
        if not sep or not port_text.isdigit():
            raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:7001 or [::1]:7001")
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

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False
