"""``--trusted-proxy`` networks: the only peers whose PROXY or forwarding headers count."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """A CIDR (or a single address); ``ValueError`` names what is wrong."""
    return ipaddress.ip_network(text.strip(), strict=False)


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self._networks = [parse_network(text) for text in networks]

    def __bool__(self) -> bool:
        return bool(self._networks)

    def __contains__(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)
