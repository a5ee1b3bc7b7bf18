"""The Redis URL forms ``--redis`` takes, read once for the config check, the master's first
start and the bus's clients.

- ``redis://``, ``rediss://``, ``unix://``: one server, as redis-py's ``from_url`` reads
  them (left to it).
- ``redis+sentinel://[[user]:password@]host:port[,host:port...][/db[/service_name]]``:
  python-socketio's form (``socketio.redis_manager.parse_redis_sentinel_url``), so one URL
  serves sockd and a plain ``AsyncRedisManager`` alike: the path is the database first,
  then the name the Sentinels know the master by (``socketio``, python-socketio's channel,
  when absent). The password is the data nodes', as there; Sentinels are asked without one.
- ``redis+cluster://[[user]:password@]host:port[,host:port...]``: any of a Redis Cluster's
  nodes, from which redis-py finds the rest. python-socketio has no Cluster form; this one
  mirrors the Sentinel one. A Cluster has database 0 only.

Ports default to 26379 (Sentinel) and 6379 (Cluster); IPv6 hosts are bracketed
(``[::1]:26379``); the user and password are percent-decoded, as redis-py decodes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: Schemes of one server, left to redis-py.
SERVER_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_SCHEME, CLUSTER_SCHEME = "redis+sentinel", "redis+cluster"
SCHEMES = (*SERVER_SCHEMES, SENTINEL_SCHEME, CLUSTER_SCHEME)
#: What python-socketio names the master when the URL does not (its channel).
DEFAULT_SERVICE = "socketio"
SENTINEL_PORT, CLUSTER_PORT = 26379, 6379

Address = tuple[str, int]


@dataclass(frozen=True)
class Server:
    """One Redis server: the URL as given, for redis-py's ``from_url``."""

    url: str


@dataclass(frozen=True)
class SentinelService:
    """A master found through Sentinels."""

    sentinels: tuple[Address, ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class ClusterNodes:
    """A Redis Cluster, by some of its nodes."""

    nodes: tuple[Address, ...]
    username: str | None = None
    password: str | None = None


RedisTarget = Server | SentinelService | ClusterNodes


def parse_redis_url(url: str) -> RedisTarget:
    """What ``url`` names; a ValueError says what is wrong (never quoting the password)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed [IPv6 address
        raise ValueError(f"is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme in SERVER_SCHEMES:
        return Server(url)
    if scheme not in (SENTINEL_SCHEME, CLUSTER_SCHEME):
        *others, last = (f"{name}://" for name in SCHEMES)
        raise ValueError(f"must start with {', '.join(others)} or {last}")
    if parts.query or parts.fragment:
        raise ValueError(f"{scheme}:// URLs take no ?options or #fragment")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, password = _credentials(userinfo)
    default_port = SENTINEL_PORT if scheme == SENTINEL_SCHEME else CLUSTER_PORT
    addresses = tuple(_address(text, default_port) for text in hosts.split(","))
    if scheme == CLUSTER_SCHEME:
        if parts.path.strip("/") not in ("", "0"):
            raise ValueError("a Redis Cluster has database 0 only: leave the path empty")
        return ClusterNodes(addresses, username, password)
    db, service_name = _sentinel_path(parts.path)
    return SentinelService(addresses, service_name, db, username, password)


def _credentials(userinfo: str) -> tuple[str | None, str | None]:
    if not userinfo:
        return None, None
    user, colon, password = userinfo.partition(":")
    return unquote(user) or None, unquote(password) if colon and password else None


def _address(text: str, default_port: int) -> Address:
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r} is not HOST:PORT ([ADDRESS]:PORT for IPv6)")
        port_text = rest[1:]
    else:
        host, _, port_text = text.partition(":")
        if ":" in port_text:
            raise ValueError(f"{text!r} is not HOST:PORT (bracket an IPv6 address: [::1]:PORT)")
    if not host:
        raise ValueError("a host is missing (HOST:PORT, several separated by commas)")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def _sentinel_path(path: str) -> tuple[int, str]:
    """The database and service name of ``/db/service_name`` (python-socketio's order)."""
    segments = path.split("/")[1:] if path else []
    if len(segments) > 2:
        raise ValueError("the path is /DB/SERVICE_NAME: it has more parts than that")
    db_text = segments[0] if segments else ""
    service = segments[1] if len(segments) > 1 else ""
    if db_text and not db_text.isdigit():
        raise ValueError(
            f"the path is /DB/SERVICE_NAME (python-socketio's order): {db_text!r} is not a "
            f"database number (for a service named so: /0/{db_text})"
        )
    return int(db_text or 0), unquote(service) or DEFAULT_SERVICE
