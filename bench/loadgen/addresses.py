"""Client source addresses spread over 127.0.0.0/8, and connections from them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

P = TypeVar("P", bound=asyncio.BaseProtocol)


def source_address(index: int) -> str:
    """The ``index``-th client address: 127.{10+i/250}.{1+i%250}.{1+i/50000}.

    The third octet varies fastest because nginx ``ip_hash`` hashes only the first three
    octets of an IPv4 address: clients differing only in the fourth would all share one
    upstream and the baseline would be unfairly unbalanced.
    """
    return f"127.{10 + (index // 250) % 200}.{1 + index % 250}.{1 + (index // 50_000) % 250}"


async def connect_from(
    source: str, port: int, factory: Callable[[], P], host: str = "127.0.0.1"
) -> tuple[asyncio.Transport, P]:
    """A connection from ``source`` to ``host:port`` served by ``factory()``'s protocol.

    ``create_connection(local_addr=...)`` binds and connects in the event loop's C code:
    measured at about two thirds of the generator's CPU per connection of a Python-level
    ``bind`` + ``sock_connect``, which matters in the connection storm.
    """
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(factory, host, port, local_addr=(source, 0))
    return transport, protocol
