"""``--trusted-proxy`` networks: the only peers whose PROXY or forwarding headers count."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from sockd.supervisor.routing.sticky_key import UNIX_PEER

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
        """Whether ``host``'s headers count; a Unix socket peer's always do (only the
        processes the socket file's mode admits can connect)."""
        if host == UNIX_PEER:
            return True
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)
