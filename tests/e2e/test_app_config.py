"""App directories: config per environment, flags over files, and start-time errors.

Each test works on a copy of tests/apps/eggapp in a temporary directory, changed the
way a user would change it, and runs the real ``sockd``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from pathlib import Path

import pytest
import socketio

from tests.harness import REPO_ROOT, Finished, SockdLauncher, free_port, run_sockd

EGGAPP = REPO_ROOT / "tests" / "apps" / "eggapp"


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    target = tmp_path / "eggapp"
    shutil.copytree(EGGAPP, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def one_error_line(result: Finished) -> str:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr_lines() if line.startswith("sockd: error:")]
    assert len(errors) == 1, result.stderr
    assert result.leftovers == []
    return errors[0]


def start_failure(app: Path, *flags: str) -> str:
    return one_error_line(run_sockd("start", str(app), "--port", str(free_port()), *flags))


def test_env_file_overrides_the_default_file(sockd: SockdLauncher) -> None:
    server = sockd("--env", "overlay", app=str(EGGAPP), workers=2)
    url = f"http://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=polling"
    with urllib.request.urlopen(url, timeout=10) as response:
        handshake = json.loads(response.read().decode()[1:])
    assert handshake["pingInterval"] == 7000

    async def scenario() -> dict[str, object]:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            f"http://127.0.0.1:{server.port}", transports=["websocket"], wait_timeout=10
        )
        try:
            return await client.call("config_value", timeout=10)
        finally:
            await client.shutdown()

    assert asyncio.run(scenario()) == {"ping_interval": 7.0, "env": "overlay", "label": "overlay"}


def test_flags_win_over_files_and_config_shows_the_result(app_copy: Path) -> None:
    (app_copy / "config" / "config.prod.toml").write_text("[cluster]\nworkers = 3\nport = 7999\n")
    shown = run_sockd("config", str(app_copy), "--port", "7123")
    assert shown.returncode == 0, shown.stderr
    effective = json.loads(shown.stdout)
    assert (effective["cluster"]["workers"], effective["cluster"]["port"]) == (3, 7123)
    assert effective["env"] == "prod"
    assert effective["session"]["secret"] == "(set, not shown)"


def test_unknown_config_key_is_named(app_copy: Path) -> None:
    (app_copy / "config" / "config.prod.toml").write_text("[io.init]\nping_intervall = 3\n")
    line = start_failure(app_copy)
    assert line.endswith(
        "config/config.prod.toml: unknown key [io.init] ping_intervall "
        "(did you mean ping_interval?)"
    )


def test_missing_middleware_module_names_the_file(app_copy: Path) -> None:
    (app_copy / "app" / "io" / "middleware" / "gate.py").unlink()
    line = start_failure(app_copy)
    assert str(app_copy / "app" / "io" / "middleware" / "gate.py") in line


def test_duplicate_route_is_an_error(app_copy: Path) -> None:
    router = app_copy / "app" / "router.py"
    router.write_text(router.read_text() + "    io.route('ping', io.controller.plain.add)\n")
    assert "duplicate route: event 'ping' in namespace '/'" in start_failure(app_copy)


def test_route_to_a_missing_handler_is_an_error(app_copy: Path) -> None:
    router = app_copy / "app" / "router.py"
    router.write_text(router.read_text() + "    io.route('x', io.controller.plain.nope)\n")
    assert "has no handler 'nope'" in start_failure(app_copy)


def test_session_secret_required_outside_development(app_copy: Path) -> None:
    config = app_copy / "config" / "config.default.toml"
    config.write_text(config.read_text().replace('secret = "eggapp-test-secret"', ""))
    assert "[session] secret is not set for env 'prod'" in start_failure(app_copy)


def test_session_secret_from_the_environment(
    app_copy: Path, sockd: SockdLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = app_copy / "config" / "config.default.toml"
    config.write_text(config.read_text().replace('secret = "eggapp-test-secret"', ""))
    monkeypatch.setenv("SOCKD_SESSION_SECRET", "from-the-environment")
    sockd(app=str(app_copy), workers=1)  # starts: the secret came from the environment


def test_sync_generate_id(app_copy: Path, sockd: SockdLauncher) -> None:
    (app_copy / "app" / "io" / "generate_id.py").write_text(
        "def generate_id(request):\n    return 'sync-' + request.query.get('user', 'anon')\n"
    )
    server = sockd(app=str(app_copy), workers=2)

    async def scenario() -> str:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            f"http://127.0.0.1:{server.port}?user=bob", transports=["websocket"], wait_timeout=10
        )
        try:
            return (await client.call("ping", timeout=10))["sid"]
        finally:
            await client.shutdown()

    assert asyncio.run(scenario()) == "sync-bob"


def test_not_an_app_directory(tmp_path: Path) -> None:
    line = one_error_line(run_sockd("start", str(tmp_path)))
    assert "is not a sockd app directory" in line


def test_unknown_variables_warn_and_a_mistyped_env_is_refused(
    app_copy: Path, sockd: SockdLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKD_DEPLOY_ID", "42")
    monkeypatch.setenv("SOCKD_WORKRES", "4")
    server = sockd(app=str(app_copy), workers=1)  # starts: unknown variables are not errors
    server.wait_for_line("sockd: warning: unknown environment variable SOCKD_DEPLOY_ID ignored")
    server.wait_for_line("SOCKD_WORKRES ignored (did you mean SOCKD_WORKERS?)")
    monkeypatch.setenv("SOCKD_ENV", "prdo")
    line = start_failure(app_copy)
    assert line.endswith(
        f"SOCKD_ENV=prdo: there is no config/config.prdo.toml in {app_copy}; "
        "its environments: overlay"
    )


def test_module_app_refuses_app_layout_settings(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.default.toml").write_text("[io.init]\nping_interval = 3\n")
    line = one_error_line(run_sockd("start", "tests.apps.echo_app:sio", "--app-dir", str(tmp_path)))
    assert "[io.init] applies to apps in the sockd app layout" in line


def test_several_workers_without_sticky_name_the_app_setting(app_copy: Path) -> None:
    """An app directory has no AsyncServer call to change: the fix named is its setting."""
    line = start_failure(app_copy, "--workers", "2")
    assert 'add --sticky, or allow only WebSocket with [io.init] transports = ["websocket"]' in line
    assert "AsyncServer" not in line
