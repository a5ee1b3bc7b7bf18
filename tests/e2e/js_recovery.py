"""Running tests/js/recovery.js (the official client across a disruption) from a test.

The script prints ``{"event": "disrupt"}`` when the test should disrupt client A's
connection, then one result line. :func:`run_recovery` runs it, calls ``disrupt`` at that
moment (in a thread: it may block on sockd's log), and returns the result;
:func:`assert_recovered` checks what the issue asks: every broadcast of B received once and
in order, the gap's among them, the same socket id, ``recovered`` true, the room kept.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tests.harness import REPO_ROOT, SockdProcess, base_url, worker_map

JS_DIR = REPO_ROOT / "tests" / "js"
#: The plain python-socketio app the recovery tests serve (recovery on by variable).
APP = "tests.apps.recovery_app:app"
#: Bound of one run of the script (its own bound is 45 s).
RUN_TIMEOUT = 60.0
NPM_TIMEOUT = 300.0


def node_binary() -> str:
    """node, with socket.io-client in tests/js (installed here if missing); skips without."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the official JavaScript client")
    if not (JS_DIR / "node_modules" / "socket.io-client").is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
            timeout=NPM_TIMEOUT, check=False,
        )  # fmt: skip
        assert installed.returncode == 0, f"npm ci in {JS_DIR} failed:\n{installed.stderr}"
    return node


def run_recovery(
    node: str,
    port: int,
    sources: tuple[str, str],
    disrupt: Callable[[dict[str, Any]], None] | None,
    transports: str = "websocket",
    steady: bool = False,
    port_b: int | None = None,
) -> dict[str, Any]:
    """Run the script against sockd on ``port``: A from ``sources[0]``, B from ``sources[1]``
    (to ``port_b`` if given); ``disrupt`` None: A closes its own transport; ``steady``: what
    ``disrupt`` does leaves A connected."""
    mode = "steady" if steady else "external" if disrupt else "transport"
    urls = [base_url(port)] + ([base_url(port_b)] if port_b else [])
    run = _run(node, urls, sources, disrupt, transports, mode)
    return asyncio.run(asyncio.wait_for(run, RUN_TIMEOUT))


async def _run(
    node: str,
    urls: list[str],
    sources: tuple[str, str],
    disrupt: Callable[[dict[str, Any]], None] | None,
    transports: str,
    mode: str,
) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        node, "recovery.js", urls[0], *sources, transports, mode, *urls[1:],
        cwd=JS_DIR, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        while line := await proc.stdout.readline():
            message = json.loads(line)
            if message.get("event") == "disrupt" and disrupt is not None:
                await asyncio.to_thread(disrupt, message)
            elif message.get("event") != "disrupt":
                assert "error" not in message, message
                return dict(message)
        raise AssertionError(f"no result from node: {(await proc.stderr.read()).decode()}")
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def gap_messages(result: dict[str, Any]) -> int:
    """How many of A's messages B sent while A was away (between its first disconnect and
    the connect after it): the ones recovery had to bring back."""
    events = result["events"]
    lost = next(e["at"] for e in events if "disconnect" in e)
    back = next(e["at"] for e in events if "connect" in e and e["at"] > lost)
    return sum(1 for at in result["sentAt"] if lost <= at <= back)


def assert_all_once_in_order(result: dict[str, Any]) -> None:
    """Every message the server acknowledged to B is received, once, in order; one whose
    ack B never got (its own connection went too) may have been broadcast or not, and if
    it was, it is received once and in order too."""
    received = result["received"]
    assert received == sorted(set(received)), f"duplicates or disorder: {received}"
    missing = sorted(set(result["confirmed"]) - set(received))
    assert missing == [], f"broadcasts never received: {missing}; {result}"


def assert_recovered(result: dict[str, Any], gap: bool = True) -> None:
    """Exactly once, in order, the same socket, its room kept (``gap``: some messages were
    sent while A was away)."""
    assert_all_once_in_order(result)
    assert result["idAfter"] == result["idBefore"] and result["recovered"] is True, result
    assert "r" in result["after"]["rooms"], result["after"]
    assert result["after"]["recovered"] is True, result["after"]
    assert result["after"]["auth"] == {"name": "a"}, "pid and offset are not the app's"
    assert [e for e in result["events"] if "connect" in e][-1]["recovered"] is True
    if gap:
        assert gap_messages(result) > 0, result["events"]


def apart(proc: SockdProcess, sources: list[str], a_worker: int | None = None) -> tuple[str, str]:
    """A source for A (on worker ``a_worker``, if given) and one for B on another worker."""
    where = asyncio.run(worker_map(proc.port, sources))
    for a, pid in where.items():
        if a_worker is None or pid == a_worker:
            b = next((s for s, other in where.items() if other != pid), None)
            if b is not None:
                return a, b
    raise AssertionError(f"no two sources on different workers: {where}")
