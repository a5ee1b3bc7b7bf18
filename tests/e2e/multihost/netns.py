"""Network namespaces for test hosts: made, entered and removed by name, with ``ip``.

Everything a test creates lives inside namespaces whose names carry the test run's pid, so
two runs never meet, and removing the namespaces removes every link in them (a veth whose
one end goes takes its peer along). Code runs inside a namespace in two ways: a command
through ``ip netns exec`` (sockd, redis-server, HAProxy), or a Python function in a thread
that entered the namespace with ``setns(2)``, which switches only the calling thread, so
the test's clients can live in the client namespace while pytest stays where it is.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pytest

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
IP_TIMEOUT = 15.0

T = TypeVar("T")


class NetnsError(RuntimeError):
    """An ``ip`` command failed: its arguments and what it said."""


def ip(*args: str, namespace: str | None = None, stdin: str | None = None) -> str:
    """Run ``ip [-n NAMESPACE] ARGS`` (bounded); its stdout, or :class:`NetnsError`."""
    command = ["ip", *(["-n", namespace] if namespace else []), *args]
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=IP_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise NetnsError(f"{' '.join(command)}: {result.stderr.strip() or result.returncode}")
    return result.stdout


def ip_batch(lines: Iterable[str], namespace: str | None = None) -> None:
    """Many ``ip`` commands in one process (``ip -batch -``): adding 500 addresses is quick."""
    ip("-batch", "-", namespace=namespace, stdin="\n".join(lines) + "\n")


@functools.cache
def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (not root, no ``ip``, refused), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (apt-get install -y iproute2)"
    probe = f"skprobe{os.getpid()}"
    try:
        ip("netns", "add", probe)
        ip("link", "add", "br0", "type", "bridge", namespace=probe)
        ip("link", "add", "v0", "type", "veth", "peer", "name", "v1", namespace=probe)
    except (NetnsError, OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot create network namespaces, bridges or veths here: {exc}"
    finally:
        with contextlib.suppress(NetnsError, OSError, subprocess.TimeoutExpired):
            ip("netns", "delete", probe)
    return None


def require_namespaces() -> None:
    """Skip the calling test module, at collection, where namespaces cannot be made.

    Every module raises the same skip from here, so pytest reports one line for them all.
    """
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"multi-host tests need network namespaces: {reason}", allow_module_level=True)


def exec_prefix(namespace: str, env: Mapping[str, str] | None = None) -> list[str]:
    """The words that run a command inside ``namespace`` with ``env`` added."""
    words = ["ip", "netns", "exec", namespace]
    if env:
        words += ["env", *(f"{key}={value}" for key, value in env.items())]
    return words


def pids_in(namespace: str) -> list[int]:
    """Processes whose network namespace is ``namespace`` (``ip netns pids``)."""
    with contextlib.suppress(NetnsError, subprocess.TimeoutExpired):
        return [int(word) for word in ip("netns", "pids", namespace).split()]
    return []


def _enter(namespace: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(NETNS_DIR / namespace, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {namespace}: {os.strerror(errno)}")
    finally:
        os.close(fd)


def call_in(namespace: str, function: Callable[..., T], *args: Any, timeout: float) -> T:
    """``function(*args)`` in a fresh thread inside ``namespace``; its result or exception.

    Sockets the function creates belong to the namespace, and so do threads it starts.
    A function that outlives ``timeout`` fails the caller (its daemon thread is abandoned).
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            _enter(namespace)
            outcome["value"] = function(*args)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"in-{namespace}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"{function.__name__} in {namespace} still running after {timeout}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
