"""Fixtures: a real redis-server on a free port, a factory of real sockd masters, and what
each test gets of its own: free ports, loopback source addresses, a runtime directory.

The helpers they use (and that tests import) live in tests/harness.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness import (
    LoopbackNetworks,
    RedisServer,
    SockdLauncher,
    SourceAddresses,
    free_port,
    private_runtime_dir,
)


@contextlib.contextmanager
def running_redis(workdir: Path) -> Iterator[RedisServer]:
    """A redis-server on a free loopback port, stopped by pid on exit.

    It is never skipped when redis-server is missing: .ci/run installs it, so a
    missing binary is a broken machine and must fail loudly.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not on PATH: install it (apt-get install -y redis-server; "
            ".ci/run does this)",
            pytrace=False,
        )
    server = RedisServer(binary, workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server shared by the session; yields ``redis://127.0.0.1:PORT/0``."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of one test's own, which the test may stop."""
    with running_redis(tmp_path) as server:
        assert server.proc is not None
        yield server.url, server.proc


@pytest.fixture
def outage_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of one test's own, which the test may stop, pause and start again."""
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def session_runtime_dir() -> Iterator[Path]:
    """Every sockd of the suite keeps its control socket and pid file in a private directory,
    so masters a test kills leave nothing behind in /run/sockd. Tests that need one of their
    own use ``runtime_dir``."""
    directory = Path(tempfile.mkdtemp(prefix="sockd-suite-"))
    saved = {name: os.environ.pop(name, None) for name in ("XDG_RUNTIME_DIR", "RUNTIME_DIRECTORY")}
    os.environ["XDG_RUNTIME_DIR"] = str(directory)
    try:
        yield directory
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def sockd() -> Iterator[SockdLauncher]:
    """Start sockd masters (echo app by default); all are killed by pid at teardown."""
    launcher = SockdLauncher()
    try:
        yield launcher
    finally:
        launcher.close()


@pytest.fixture(scope="module")
def sockd_module() -> Iterator[SockdLauncher]:
    """Like ``sockd``, for a cluster that several tests of one module share."""
    launcher = SockdLauncher()
    try:
        yield launcher
    finally:
        launcher.close()


# --------------------------------------------------------------------------- a test's own


@pytest.fixture(scope="session")
def loopback_networks() -> LoopbackNetworks:
    return LoopbackNetworks()


@pytest.fixture
def source_addresses(loopback_networks: LoopbackNetworks) -> SourceAddresses:
    """This test's own loopback source addresses (``source_addresses(n)``: the first n)."""
    return SourceAddresses(loopback_networks)


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[..., int]:
    """``free_port(host="127.0.0.1")``: a port nothing listens on, never handed out before
    in this run (tests/harness.py)."""
    return free_port


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private ``XDG_RUNTIME_DIR`` for this test, so ``sockd stop|reload|status`` (and the
    titles they look up) see only this test's masters."""
    with private_runtime_dir(monkeypatch) as directory:
        yield directory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``pytest -n N --dist loadgroup`` (scripts/test.sh), keep each module's tests in
    one process, so a module-scoped sockd starts once, and the multi-host tests, which share
    one set of network namespaces, together."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        group = "multihost" if "/multihost/" in module else module
        item.add_marker(pytest.mark.xdist_group(group))
