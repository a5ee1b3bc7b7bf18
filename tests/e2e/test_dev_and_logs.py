"""``sockd dev`` reloads on a code change; ``--log-format json --log-file`` writes one JSON
object per line from every process, and SIGUSR1 makes them all reopen the file after it
was rotated away.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.harness import (
    OPS_APP,
    SockdLauncher,
    SourceAddresses,
    connect_client,
    wait_until,
    wait_until_sync,
    worker_map,
)

DEV_APP = """
import socketio

sio = socketio.AsyncServer(async_mode="asgi")


@sio.event
async def version(sid, data=None):
    return {version!r}
"""


pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.fixture(autouse=True)
def no_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")


@pytest.mark.timeout(90)
def test_dev_reloads_when_a_source_file_changes(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    source = tmp_path / "dev_app.py"
    source.write_text(DEV_APP.format(version="one"))
    proc = sockd("--app-dir", str(tmp_path), command="dev", app="dev_app:sio", workers=1)

    async def scenario() -> None:
        client = await connect_client(proc.port, source_addresses(1)[0], ["websocket"])
        try:
            assert await client.call("version") == "one"
            mark = proc.line_count()
            source.write_text(DEV_APP.format(version="two"))
            changed = await asyncio.to_thread(proc.wait_for_line, "changed: reloading", 30, mark)
            assert str(source) in changed
            await asyncio.to_thread(proc.wait_for_line, "reload 1 finished", 60, mark)
            await wait_until(lambda: client.connects >= 2 and client.connected, 30, "reconnect")
            assert await client.call("version") == "two"
        finally:
            await client.close()

    asyncio.run(scenario())


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log file, each of which must be one JSON object."""
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.timeout(90)
def test_json_log_file_is_reopened_by_every_process_on_sigusr1(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    log = tmp_path / "sockd.log"
    proc = sockd(
        "--log-format", "json", "--log-file", str(log), "--access-log",
        app=OPS_APP, workers=2, wait_ready=False,
    )  # fmt: skip
    wait_until_sync(
        lambda: any(line["message"].startswith("master ready") for line in json_lines(log)),
        30,
        "master ready in the log file",
    )
    lines = json_lines(log)
    assert all({"time", "level", "pid", "role", "message"} <= set(line) for line in lines)
    ready = [line for line in lines if line.get("event") == "ready"]
    assert sorted(line["slot"] for line in ready) == [0, 1]
    assert all(line["role"] == "master" and line["worker_pid"] for line in ready)
    assert any(line["role"] == "worker 0" for line in lines)
    assert proc.lines() == [], "with --log-file nothing goes to stderr"

    rotated = tmp_path / "sockd.log.1"
    log.rename(rotated)
    proc.send_signal(signal.SIGUSR1)
    wait_until_sync(
        lambda: any("reopened" in line["message"] for line in json_lines(log)),
        15,
        "the master to reopen the log file",
    )
    # Workers reopen at their next line: their access log lines land in the new file.
    pids = set(asyncio.run(worker_map(proc.port, source_addresses(20))).values())
    assert len(pids) == 2

    def workers_logged() -> bool:
        roles = {line["role"] for line in json_lines(log) if "GET /pid" in line["message"]}
        return roles == {"worker 0", "worker 1"}

    wait_until_sync(workers_logged, 15, "both workers' access lines in the new file")
    assert all(line["pid"] in pids for line in json_lines(log) if "GET /pid" in line["message"])


@pytest.mark.timeout(120)
def test_dev_keeps_reloading_after_a_syntax_error(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    """A syntax error aborts its reload and the worker serves on; fixing it reloads again
    (``sockd dev`` used to stop reloading after the first error)."""
    source = tmp_path / "dev_app.py"
    source.write_text(DEV_APP.format(version="one"))
    proc = sockd("--app-dir", str(tmp_path), command="dev", app="dev_app:sio", workers=1)

    async def scenario() -> None:
        client = await connect_client(proc.port, source_addresses(1)[0], ["websocket"])
        try:
            mark = proc.line_count()
            source.write_text("def broken(:\n")
            aborted = await asyncio.to_thread(proc.wait_for_line, "aborted", 60, mark)
            assert "SyntaxError" in aborted, aborted
            assert await client.call("version") == "one", "the running worker serves on"
            mark = proc.line_count()
            source.write_text(DEV_APP.format(version="two"))
            await asyncio.to_thread(proc.wait_for_match, r"reload \d+ finished", 60, mark)
            await wait_until(lambda: client.connects >= 2 and client.connected, 30, "reconnect")
            assert await client.call("version") == "two"
        finally:
            await client.close()

    asyncio.run(scenario())
