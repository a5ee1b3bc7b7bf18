"""The official Engine.IO and Socket.IO protocol test suites, run against sockd.

Both live in the protocols' repositories (socketio/engine.io-protocol and
socketio/socket.io-protocol, folder ``test-suite``), unpublished on npm, and run as their
READMEs say: ``npm ci`` then mocha, against a server on ``http://localhost:3000``
configured as the README shows. ``scripts/test.sh`` fetches them, at the commits it names,
into ``tests/js/protocol-suites/`` (not part of this repository); without them, or without
node, these tests are skipped with one line. ``tests/js/suite_target.mjs`` points the
suites' hard-coded address at the sockd each test starts.

The Engine.IO suite runs against a bare python-engineio app (``tests/apps/engineio_app.py``),
the Socket.IO one against a python-socketio app (``tests/apps/socketio_suite_app.py``),
each on two sticky workers.

``suite_target.mjs`` also dispatches each WebSocket event in a task of its own, as browsers
do (the suites are written to run in a browser too): Node's ws emits every message of one
read at once, and a test awaiting one message at a time would miss the second of two
packets that arrived together (seen here as tests failing at random under load).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness import REPO_ROOT, SockdLauncher

SUITES = Path(os.environ.get("PROTOCOL_SUITES_DIR", REPO_ROOT / "tests/js/protocol-suites"))
TARGET = REPO_ROOT / "tests/js/suite_target.mjs"
#: Each suite's app and the sockd flags its README's server configuration asks for.
RUNS = {
    "engine.io-protocol": ("tests.apps.engineio_app:eio", ()),
    "socket.io-protocol": ("tests.apps.socketio_suite_app:sio", ("--connect-timeout", "1")),
}


def _suite(name: str) -> tuple[str, Path, Path]:
    node = shutil.which("node")
    folder = SUITES / name / "test-suite"
    mocha = folder / "node_modules/mocha/bin/_mocha"
    if node is None or not mocha.exists():
        pytest.skip(
            f"the official {name} test suite is not installed "
            "(PROTOCOL_SUITES_FROM=DIR scripts/test.sh fetches it: README, Protocol conformance)"
        )
    return node, folder, mocha


@pytest.mark.timeout(180)
@pytest.mark.parametrize("name", list(RUNS))
def test_the_official_suite_passes(sockd: SockdLauncher, name: str) -> None:
    node, folder, mocha = _suite(name)
    app, flags = RUNS[name]
    proc = sockd(*flags, app=app, workers=2)
    run = subprocess.run(
        [node, str(mocha), "--reporter", "dot", "test-suite.js"],
        cwd=folder,
        env={
            **os.environ,
            "SOCKD_SUITE_PORT": str(proc.port),
            "NODE_OPTIONS": f"--import {TARGET.as_uri()}",
        },
        capture_output=True,
        text=True,
        timeout=150,
    )
    print(run.stdout[-3000:], run.stderr[-2000:])
    assert run.returncode == 0, f"{name}: mocha exited {run.returncode}"
    assert " passing" in run.stdout and " failing" not in run.stdout
    assert not [line for line in proc.lines() if "Traceback" in line]
