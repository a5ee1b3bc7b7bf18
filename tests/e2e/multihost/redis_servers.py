"""Real redis-server processes in the Redis namespace: one server, a Sentinel trio, a Cluster.

Every server runs through ``ip netns exec`` on one of the Redis namespace's addresses,
without persistence, its files in a temp dir, and is stopped by pid. Servers that talk to
each other announce the address they serve on (``replica-announce-ip``, ``sentinel
announce-ip``, ``cluster-announce-ip``): the namespace has several addresses, and the
source address of an outgoing connection is not the one a peer must call back.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.multihost.netns import call_in, exec_prefix
from tests.e2e.multihost.network import REDIS, REDIS_EXTRA, Network
from tests.harness import stop_process, wait_until_sync

REDIS_PORT = 6379
SENTINEL_PORT = 26379
CLUSTER_PORT = 7000
#: The name the Sentinels know the master by.
MASTER_NAME = "sockd"


def _answers(address: str, port: int, command: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection((address, port), timeout=0.5) as sock:
            sock.sendall(command)
            return expect in sock.recv(65536)
    except OSError:
        return False


def answers(net: Network, address: str, port: int, command: bytes, expect: bytes) -> bool:
    """Whether the server's reply to an inline ``command`` contains ``expect``, asked from
    the client namespace."""
    return call_in(net.ns("client"), _answers, address, port, command, expect, timeout=5)


@contextlib.contextmanager
def running_redis(
    net: Network,
    workdir: Path,
    address: str = REDIS,
    port: int = REDIS_PORT,
    extra: Sequence[str] = (),
    config: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """redis-server on ``address:port`` (reading ``config`` first, if given); stopped by pid."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server")
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        *exec_prefix(net.ns("redis")), binary, *([str(config)] if config else []),
        "--bind", address, "--port", str(port), "--protected-mode", "no", "--save", "",
        "--appendonly", "no", "--dir", str(workdir), *extra,
    ]  # fmt: skip
    log_path = workdir / f"redis-{address}-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while not answers(net, address, port, b"PING\r\n", b"+PONG"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not answer:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield proc
    finally:
        stop_process(proc)


@dataclass
class SentinelTrio:
    """A master, two replicas and three Sentinels (quorum 2), on the extra addresses."""

    master: str
    replicas: list[str]
    #: Data node address -> its redis-server, which a test may kill.
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    sentinels: list[tuple[str, int]] = field(default_factory=list)


def _sentinel_config(workdir: Path, address: str, master: str) -> Path:
    path = workdir / f"sentinel-{address}.conf"  # Sentinel rewrites it: one per process
    path.write_text(
        f"sentinel announce-ip {address}\n"
        f"sentinel monitor {MASTER_NAME} {master} {REDIS_PORT} 2\n"
        f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
        f"sentinel failover-timeout {MASTER_NAME} 5000\n"
    )
    return path


@contextlib.contextmanager
def sentinel_trio(net: Network, workdir: Path) -> Iterator[SentinelTrio]:
    """Data nodes on 10.0.0.6-8:6379 (the first one master), Sentinels on :26379 of each."""
    master, *replicas = REDIS_EXTRA
    trio = SentinelTrio(master, list(replicas))
    with contextlib.ExitStack() as stack:
        for address in REDIS_EXTRA:
            extra = ["--replica-announce-ip", address]
            if address != master:
                extra += ["--replicaof", master, str(REDIS_PORT)]
            trio.servers[address] = stack.enter_context(
                running_redis(net, workdir / address, address, REDIS_PORT, extra)
            )
        for address in REDIS_EXTRA:
            config = _sentinel_config(workdir, address, master)
            stack.enter_context(
                running_redis(net, workdir / address, address, SENTINEL_PORT, ["--sentinel"],
                              config)
            )  # fmt: skip
            trio.sentinels.append((address, SENTINEL_PORT))
        # Each Sentinel must know both replicas and both other Sentinels before a failover.
        request = f"SENTINEL MASTER {MASTER_NAME}\r\n".encode()
        for address, port in trio.sentinels:
            _wait(functools.partial(_knows_everyone, net, address, port, request), "Sentinels")
        yield trio


def _knows_everyone(net: Network, address: str, port: int, request: bytes) -> bool:
    reply = call_in(net.ns("client"), _reply, address, port, request, timeout=5)
    fields = reply.split("\r\n")
    values = dict(zip(fields[2::4], fields[4::4], strict=False))
    return values.get("num-slaves") == "2" and values.get("num-other-sentinels") == "2"


def _reply(address: str, port: int, request: bytes) -> str:
    with socket.create_connection((address, port), timeout=2) as sock:
        sock.sendall(request)
        return sock.recv(65536).decode(errors="replace")


@contextlib.contextmanager
def redis_cluster(net: Network, workdir: Path) -> Iterator[list[tuple[str, int]]]:
    """A Redis Cluster of three masters on 10.0.0.6-8:7000; yields their addresses."""
    nodes = [(address, CLUSTER_PORT) for address in REDIS_EXTRA]
    with contextlib.ExitStack() as stack:
        for address, port in nodes:
            extra = ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
                     "--cluster-announce-ip", address]  # fmt: skip
            stack.enter_context(running_redis(net, workdir / address, address, port, extra))
        cli = shutil.which("redis-cli") or "redis-cli"
        created = subprocess.run(
            [*exec_prefix(net.ns("redis")), cli, "--cluster", "create",
             *(f"{a}:{p}" for a, p in nodes), "--cluster-yes"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert created.returncode == 0, created.stdout + created.stderr
        for address, port in nodes:
            ok = functools.partial(answers, net, address, port, b"CLUSTER INFO\r\n", b"state:ok")
            _wait(ok, "the cluster's state to be ok")
        yield nodes


def _wait(predicate: Callable[[], bool], what: str) -> None:
    wait_until_sync(predicate, 30, what, interval=0.1)


def redis_cli(net: Network, address: str, port: int, *args: str) -> str:
    """``redis-cli -h ADDRESS -p PORT ARGS`` in the Redis namespace; its output."""
    cli = shutil.which("redis-cli") or "redis-cli"
    result = subprocess.run(
        [*exec_prefix(net.ns("redis")), cli, "-h", address, "-p", str(port), *args],
        capture_output=True, text=True, timeout=15, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"redis-cli {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout.strip()


def move_slot_of(net: Network, nodes: list[tuple[str, int]], key: str) -> tuple[str, str]:
    """Migrate the slot of ``key`` (with its keys) to another master, as ``redis-cli
    --cluster reshard`` moves a slot: IMPORTING on the new owner, MIGRATING on the old one,
    MIGRATE of each key, then SETSLOT NODE on the new owner, the old one and the rest.
    The old and the new owner's addresses."""
    first = nodes[0]
    slot = redis_cli(net, *first, "CLUSTER", "KEYSLOT", key)
    ids: dict[tuple[str, int], str] = {}
    owner: tuple[str, int] | None = None
    for line in redis_cli(net, *first, "CLUSTER", "NODES").splitlines():
        node_id, where, *_, state = line.split(" ", 8)
        host, _, port = where.split("@")[0].rpartition(":")
        ids[(host, int(port))] = node_id
        if any(_covers(part, int(slot)) for part in state.split()):
            owner = (host, int(port))
    assert owner is not None, f"no node serves slot {slot}"
    target = next(node for node in nodes if node != owner)
    redis_cli(net, *target, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[owner])
    redis_cli(net, *owner, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target])
    keys = redis_cli(net, *owner, "CLUSTER", "GETKEYSINSLOT", slot, "100").split()
    if keys:
        redis_cli(net, *owner, "MIGRATE", target[0], str(target[1]), "", "0", "5000",
                  "KEYS", *keys)  # fmt: skip
    for node in [target, owner, *(n for n in nodes if n not in (target, owner))]:
        redis_cli(net, *node, "CLUSTER", "SETSLOT", slot, "NODE", ids[target])
    return f"{owner[0]}:{owner[1]}", f"{target[0]}:{target[1]}"


def _covers(part: str, slot: int) -> bool:
    low, _, high = part.partition("-")
    if not low.isdigit():  # [slot->-id] of a migration in progress
        return False
    return int(low) <= slot <= int(high or low)


def sentinel_master(net: Network, trio: SentinelTrio) -> str | None:
    """The master's address as the first Sentinel names it (None if it does not answer)."""
    address, port = trio.sentinels[0]
    request = f"SENTINEL GET-MASTER-ADDR-BY-NAME {MASTER_NAME}\r\n".encode()
    try:
        reply = call_in(net.ns("client"), _reply, address, port, request, timeout=5)
    except OSError:
        return None
    lines = reply.split("\r\n")
    return lines[2] if len(lines) > 2 and lines[0] == "*2" else None
