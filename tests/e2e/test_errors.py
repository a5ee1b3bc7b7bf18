"""User errors end in one clear line and a non-zero exit, never a traceback.

Each case runs sockd to completion (bounded) and checks stderr: exactly one line starting
``sockd: error:``, naming what went wrong; no "Traceback"; and no process left behind.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Sequence

import pytest

from tests.harness import (
    BROKEN_APP,
    ECHO_APP,
    Client,
    Finished,
    SockdLauncher,
    SourceAddresses,
    run_sockd,
)

ERROR_PREFIX = "sockd: error:"


def _check(result: Finished, mentions: Sequence[str], only_line: bool) -> str:
    """The shared contract of every user error; returns the error line."""
    assert result.returncode != 0, f"exit code 0; stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr_lines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, f"expected one {ERROR_PREFIX!r} line, stderr:\n{result.stderr}"
    if only_line:
        assert result.stderr_lines() == errors, f"more than the error line:\n{result.stderr}"
    assert any(word in errors[0] for word in mentions), (
        f"the error line should name one of {list(mentions)}: {errors[0]!r}"
    )
    assert result.leftovers == [], f"processes left behind: {result.leftovers}"
    return errors[0]


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("app", "mentions"),
    [
        pytest.param(BROKEN_APP, ["does_not_exist_xyz", "tests.apps.broken_app"], id="import"),
        pytest.param("tests.apps.echo_app:no_such_attr", ["no_such_attr"], id="attribute"),
    ],
)
def test_app_that_fails_to_load(
    app: str, mentions: list[str], free_port: Callable[[], int]
) -> None:
    """An app that cannot be loaded stops sockd with one line, not a restart loop."""
    result = run_sockd("start", app, "--port", str(free_port()), timeout=60.0)
    _check(result, mentions, only_line=False)


def test_unknown_flag() -> None:
    """A bad flag is named in the one error line."""
    result = run_sockd("start", ECHO_APP, "--bogus", timeout=30.0)
    _check(result, ["--bogus"], only_line=True)


def test_port_in_use() -> None:
    """A port someone else listens on is one line naming the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_sockd("start", ECHO_APP, "--port", str(port), timeout=30.0)
    _check(result, [str(port)], only_line=True)


def test_several_workers_without_sticky_are_refused(free_port: Callable[[], int]) -> None:
    """--workers 3 without --sticky would break long-polling: refused, and the line says so."""
    result = run_sockd(
        "start", ECHO_APP, "--workers", "3", "--port", str(free_port()), timeout=30.0
    )
    # The refusal needs the app (a websocket-only app is allowed), which only workers import,
    # so the master's boot log may come first: one error line, not only one line.
    _check(result, ["sticky"], only_line=False)


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ("redis://127.0.0.1:{port}/0", "Connection refused"),
        ("redis+sentinel://127.0.0.1:{port}/0/sockd", "no Sentinel names an up master 'sockd'"),
        ("redis+cluster://127.0.0.1:{port}", "Redis Cluster cannot be connected"),
    ],
)
def test_unreachable_redis(free_port: Callable[[], int], form: str, says: str) -> None:
    """A Redis (a Sentinel, a Cluster node) nobody listens on stops the boot with one line
    naming the URL and what failed."""
    url = form.format(port=free_port())
    result = run_sockd("start", ECHO_APP, "--redis", url, "--port", str(free_port()), timeout=60.0)
    line = _check(result, [url], only_line=False)
    assert says in line, line


def test_websocket_only_app_runs_on_several_workers_without_sticky(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """Without long-polling nothing needs stickiness, so the refusal does not apply."""
    server = sockd(app="tests.apps.websocket_only_app:sio", workers=2, sticky=False)

    async def scenario() -> set[int]:
        clients = [Client(server.port, ip, ["websocket"]) for ip in source_addresses(6)]
        try:
            await asyncio.gather(*(client.connect() for client in clients))
            return {(await client.call("whoami"))["pid"] for client in clients}
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    pids = asyncio.run(scenario())
    assert pids == set(server.slot_pids().values()), "round robin reaches both workers"
