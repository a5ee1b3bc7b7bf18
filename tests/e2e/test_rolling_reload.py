"""Rolling reload (SIGHUP, ``sockd reload``): new code and config, and no connection lost.

While a steady stream of new clients connects, SIGHUP replaces the three workers one slot
at a time: every new connection succeeds (counted), every long-lived client reconnects only
while its own slot is handed over (its disconnects fall between its slot's switch and the
next slot's, read from the master's log), and lands on its slot's new worker, which runs
the new code and the new config file. A reload whose new worker cannot start is aborted and
the running workers keep serving, their clients undisturbed.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import pytest

from tests.harness import (
    Client,
    SockdLauncher,
    SockdProcess,
    SourceAddresses,
    log_time,
    open_clients,
    run_sockd,
    sockd_status,
    wait_until,
    worker_map,
)

WORKERS = 3
TITLE = "roll-test"
#: Long-lived clients kept per slot, over every transport.
PER_SLOT = 3
TRANSPORTS = (["websocket"], ["polling", "websocket"], ["polling"])

APP_SOURCE = """
import os

import socketio

VERSION = {version!r}
{broken}
sio = socketio.AsyncServer(async_mode="asgi")


@sio.event
async def version(sid, data=None):
    return {{"version": VERSION, "pid": os.getpid()}}


async def plain_http(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({{"type": message["type"] + ".complete"}})
            if message["type"] == "lifespan.shutdown":
                return
    body = str(os.getpid()).encode()
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]}})
    await send({{"type": "http.response.body", "body": body}})


app = socketio.ASGIApp(sio, other_asgi_app=plain_http)
"""


pytestmark = pytest.mark.usefixtures("runtime_dir")


@pytest.fixture(autouse=True)
def no_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rewritten sources must be read anew even within the second of their last compile.
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")


def write_app(directory: Path, version: str, broken: bool = False) -> None:
    crash = 'raise RuntimeError("broken on purpose")' if broken else ""
    (directory / "rolling_app.py").write_text(APP_SOURCE.format(version=version, broken=crash))


def switch_times(proc: SockdProcess, since: int) -> dict[int, float]:
    """slot -> when its new worker took over (from the log lines after ``since``)."""
    switches: dict[int, float] = {}
    for line in proc.lines()[since:]:
        match = re.search(r"worker (\d+) \(pid \d+\) took over from pid", line)
        if match:
            switches[int(match.group(1))] = log_time(line)
    return switches


@pytest.mark.timeout(150)
def test_rolling_reload_loses_no_connection_and_disturbs_one_slot_at_a_time(
    sockd: SockdLauncher, tmp_path: Path, source_addresses: SourceAddresses
) -> None:
    write_app(tmp_path, "one")
    proc = sockd(
        "--app-dir", str(tmp_path), "--title", TITLE, "--graceful-timeout", "10",
        app="rolling_app:app", workers=WORKERS,
    )  # fmt: skip

    async def scenario() -> None:
        old_slots = proc.slot_pids()
        slot_of = {pid: slot for slot, pid in old_slots.items()}
        placement = await worker_map(proc.port, source_addresses(90))
        by_slot: dict[int, list[str]] = {slot: [] for slot in old_slots}
        for source, pid in placement.items():
            by_slot[slot_of[pid]].append(source)
        assert all(len(sources) >= PER_SLOT for sources in by_slot.values()), by_slot
        kept = [ip for slot in sorted(by_slot) for ip in by_slot[slot][:PER_SLOT]]
        streamed = [ip for slot in sorted(by_slot) for ip in by_slot[slot][PER_SLOT:]]

        clients = [Client(proc.port, ip, TRANSPORTS[i % 3]) for i, ip in enumerate(kept)]
        try:
            await asyncio.gather(*(c.connect() for c in clients))
            versions = await asyncio.gather(*(c.call("version") for c in clients))
            assert {v["version"] for v in versions} == {"one"}
            home = {c.source_ip: slot_of[v["pid"]] for c, v in zip(clients, versions, strict=True)}

            # New code, and a config file that turns the access log on.
            write_app(tmp_path, "two")
            (tmp_path / "config").mkdir()
            (tmp_path / "config" / "config.prod.toml").write_text("[cluster]\naccess_log = true\n")

            stop = asyncio.Event()
            attempts: list[str] = []
            failures: list[str] = []

            async def stream(offset: int) -> None:
                """New clients, one after another, each connecting and asking once."""
                n = offset
                while not stop.is_set():
                    source = streamed[n % len(streamed)]
                    transports = TRANSPORTS[n % 2]  # websocket, or polling upgraded
                    n += 2
                    attempts.append(source)
                    client = Client(proc.port, source, transports, reconnection=False)
                    try:
                        await client.connect(timeout=20)
                    except Exception as exc:
                        failures.append(f"{source} {transports}: {exc!r}")
                    finally:
                        await client.close()

            streams = [asyncio.create_task(stream(i)) for i in range(2)]
            await wait_until(lambda: len(attempts) >= 6, 30.0, "the stream of new clients")
            mark = proc.line_count()
            before = len(attempts)
            proc.send_signal(signal.SIGHUP)
            await asyncio.to_thread(proc.wait_for_line, "reload 1 finished", 90.0, mark)
            during = len(attempts)
            assert during > before, "no new client tried to connect during the roll"
            print(f"{during - before} new clients during the roll, {len(failures)} failed")
            await wait_until(lambda: len(attempts) >= during + 4, 30.0, "clients after the roll")
            stop.set()
            await asyncio.gather(*streams)
            assert failures == [], f"{len(failures)} of {len(attempts)} new clients failed"

            new_slots = proc.slot_pids()
            assert set(new_slots) == set(old_slots)
            assert not set(new_slots.values()) & set(old_slots.values())
            await wait_until(
                lambda: all(c.connected for c in clients), 30.0, "every kept client back"
            )
            after = await asyncio.gather(*(c.call("version") for c in clients))
            for client, info in zip(clients, after, strict=True):
                slot = home[client.source_ip]
                assert info == {"version": "two", "pid": new_slots[slot]}, (client, slot)

            # Each client was disturbed only while its own slot changed hands.
            switches = switch_times(proc, mark)
            assert set(switches) == set(old_slots), switches
            order = sorted(switches, key=switches.get)  # type: ignore[arg-type]
            for client in clients:
                slot = home[client.source_ip]
                start = switches[slot]
                after_next = order[order.index(slot) + 1 :]
                end = switches[after_next[0]] if after_next else float("inf")
                assert client.disconnected_at, f"{client!r} of slot {slot} never reconnected"
                assert all(start <= t < end for t in client.disconnected_at), (
                    f"{client!r} of slot {slot} disconnected at {client.disconnected_at}, "
                    f"outside its slot's hand-over [{start}, {end})"
                )

            # The new config: the new workers log each request.
            mark = proc.line_count()
            await worker_map(proc.port, streamed[:3])
            proc.wait_for_line('"GET /pid HTTP/1.1" 200', 10.0, mark)

            # A new worker that cannot start aborts the roll; the old ones keep serving.
            write_app(tmp_path, "three", broken=True)
            disconnects = [len(c.disconnects) for c in clients]
            failed = await asyncio.to_thread(run_sockd, "reload", "--title", TITLE, timeout=90)
            assert failed.returncode == 1, failed.stderr
            errors = failed.stderr_lines()
            assert len(errors) == 1 and "aborted" in errors[0], failed.stderr
            status = sockd_status("--title", TITLE)
            serving = {row["slot"]: row["pid"] for row in status["workers"] if row["serving"]}
            assert serving == new_slots
            assert [len(c.disconnects) for c in clients] == disconnects
            still = await asyncio.gather(*(c.call("version") for c in clients))
            assert {info["version"] for info in still} == {"two"}
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    asyncio.run(scenario())


@pytest.mark.timeout(60)
def test_reload_command_scales_and_reports(
    sockd: SockdLauncher, source_addresses: SourceAddresses
) -> None:
    """``sockd reload --workers N`` rolls and sets the count; the reply names it."""
    proc = sockd("--title", TITLE, app="tests.apps.ops_app:app", workers=1)
    done = run_sockd("reload", "--title", TITLE, "--workers", "2", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2 worker(s)" in done.stdout
    status = sockd_status("--title", TITLE)
    assert status["master"]["workers"] == 2
    assert sorted(row["slot"] for row in status["workers"] if row["serving"]) == [0, 1]
    assert all(row["generation"] == 1 for row in status["workers"])
    asyncio.run(open_clients_smoke(proc.port, source_addresses(4)))


async def open_clients_smoke(port: int, sources: list[str]) -> None:
    async with open_clients(port, sources, ["websocket"]) as clients:
        assert all(c.connected for c in clients)


@pytest.mark.timeout(120)
def test_reloads_after_aborted_ones_answer_and_an_abort_restores_the_log_level(
    sockd: SockdLauncher, tmp_path: Path
) -> None:
    """After one aborted reload every later one used to hang until its timeout; and an
    aborted reload left the new log level in force."""
    write_app(tmp_path, "one")
    config = tmp_path / "config"
    config.mkdir()
    proc = sockd("--app-dir", str(tmp_path), "--title", TITLE, app="rolling_app:app", workers=1)

    def reload() -> tuple[int, str]:
        done = run_sockd("reload", "--title", TITLE, "--timeout", "60", timeout=90)
        return done.returncode, done.stdout + done.stderr

    (config / "config.prod.toml").write_text("[cluster]\nwrkers = 2\n")
    code, said = reload()
    assert code == 1 and "reload aborted" in said and "wrkers" in said, said
    # A quieter log level, and a new release that cannot start.
    (config / "config.prod.toml").write_text('[cluster]\nlog_level = "warning"\n')
    write_app(tmp_path, "two", broken=True)
    code, said = reload()
    assert code == 1 and "broken on purpose" in said, said
    # The abort put the log level back: the master's info lines show again.
    write_app(tmp_path, "two")
    mark = proc.line_count()
    proc.send_signal(signal.SIGTTIN)
    proc.wait_for_line("slot 1 added", 15, mark)
    proc.wait_for_line("worker 1 ready", 30, mark)
    (config / "config.prod.toml").unlink()
    code, said = reload()
    assert code == 0 and "reloaded: 1 worker(s)" in said, said
