"""The key-resolution stage between the acceptor and the dispatcher.

One module per ``--sticky-key`` mode: ``ip`` keys a connection at once by its
peer address; ``proxy-protocol``, ``forwarded`` and ``sid`` peek at its first
bytes (``peek.py``) before the dispatcher routes it.
"""

from __future__ import annotations

from typing import Protocol

from sockd.config.cluster import ClusterSettings
from sockd.supervisor.routing.keys.forwarded import ForwardedKeys
from sockd.supervisor.routing.keys.peek import Dispatch, Inspector, PeekStage
from sockd.supervisor.routing.keys.proxy_protocol import ProxyProtocolKeys
from sockd.supervisor.routing.keys.sid import sid_keys
from sockd.supervisor.routing.keys.trusted import TrustedProxies
from sockd.supervisor.routing.sticky_key import by_address
from sockd.wire.handoff import Handoff

#: Largest request head (forwarded) or PROXY header peeked at.
PEEK_LIMIT = 16 * 1024


class KeyResolver(Protocol):
    def resolve(self, fd: int, meta: Handoff) -> None: ...
    def close(self) -> None: ...
    @property
    def pending(self) -> int:
        """Connections still being read before their route is known."""
        ...


class AddressKeys:
    """``ip``: the peer address, nothing to read."""

    def __init__(self, dispatch: Dispatch) -> None:
        self._dispatch = dispatch

    def resolve(self, fd: int, meta: Handoff) -> None:
        self._dispatch(fd, meta, by_address(meta.peer_host))

    def close(self) -> None:
        pass

    @property
    def pending(self) -> int:
        return 0


class PeekedKeys:
    """Modes that read the first bytes: each connection waits in the peek stage."""

    def __init__(self, inspect: Inspector, dispatch: Dispatch, timeout: float) -> None:
        self.stage = PeekStage(inspect, dispatch, timeout=timeout, limit=PEEK_LIMIT)

    def resolve(self, fd: int, meta: Handoff) -> None:
        self.stage.start(fd, meta)

    def close(self) -> None:
        self.stage.close()

    @property
    def pending(self) -> int:
        return self.stage.pending


def build_resolver(options: ClusterSettings, dispatch: Dispatch) -> KeyResolver:
    trusted = TrustedProxies(options.trusted_proxy)
    inspectors: dict[str, Inspector] = {
        "proxy-protocol": ProxyProtocolKeys(trusted),
        "forwarded": ForwardedKeys(trusted),
        "sid": sid_keys,
    }
    inspect = inspectors.get(options.sticky_key)
    if inspect is None:
        return AddressKeys(dispatch)
    return PeekedKeys(inspect, dispatch, options.peek_timeout)
