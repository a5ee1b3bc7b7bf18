"""Rules between settings: one validator, the same for ``start`` and ``config``, each error
naming where the values came from (flag, variable, or file and key)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sockd.cli.app import main
from tests.harness import REPO_ROOT

EGGAPP = REPO_ROOT / "tests" / "apps" / "eggapp"
MODULE_APP = "some_module:sio"  # never imported by these commands
CERT = REPO_ROOT / "tests" / "apps" / "eggapp" / "config" / "config.default.toml"  # any file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def refused_alike(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """``config`` and ``start`` refuse ``argv`` with the same one line; returns it."""
    lines = []
    for command in ("config", "start"):
        code, out, err = run(capsys, command, *argv)
        assert (code, out) == (2, ""), err
        assert err.count("\n") == 1 and err.startswith("sockd: error: "), err
        lines.append(err.strip())
    assert lines[0] == lines[1]
    return lines[0].removeprefix("sockd: error: ")


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (
            ["--sticky-key", "forwarded"],
            {},
            "--sticky-key forwarded needs [cluster] trusted_proxy (--trusted-proxy, "
            "SOCKD_TRUSTED_PROXY): the proxies whose headers count",
        ),
        (
            [],
            {"SOCKD_STICKY_KEY": "proxy-protocol"},
            "SOCKD_STICKY_KEY=proxy-protocol needs [cluster] trusted_proxy",
        ),
        (
            ["--sticky-key", "sid", "--certfile", str(CERT), "--keyfile", str(CERT)],
            {},
            "--sticky-key sid reads the HTTP request, which TLS in the workers (--certfile ",
        ),
        (["--keyfile", str(CERT)], {}, f"--keyfile {CERT} needs [cluster] certfile"),
        (["--certfile", str(CERT)], {}, f"--certfile {CERT} holds no private key"),
        (["--certfile", "/nonexistent.pem"], {}, "--certfile /nonexistent.pem: no such file"),
        (["--daemon"], {}, "--daemon needs [cluster] log_file (--log-file, SOCKD_LOG_FILE)"),
        ([], {"SOCKD_DAEMON": "1"}, "SOCKD_DAEMON=true needs [cluster] log_file"),
        (["--workers", "0"], {}, "--workers 0: must be between 1 and 1024"),
        (["-w", "x"], {}, "--workers x: expected an integer"),
        (["--title", "a/b"], {}, "--title a/b: must be letters, digits"),
        (["--redis", "http://:pw@h"], {}, "--redis (set): must start with redis://"),
        (
            ["--redis", "redis+sentinel://:pw@h:26379/mymaster"],
            {},
            "--redis (set): the path is /DB/SERVICE_NAME (python-socketio's order)",
        ),
        (["--env", "prdo"], {}, "--env prdo: there is no config/config.prdo.toml"),
    ],
)
def test_config_refuses_what_start_refuses(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    line = refused_alike(capsys, str(EGGAPP), *argv)
    assert line.startswith(message), line
    assert "pw@" not in line


def test_session_secret_is_required_outside_development(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "app").mkdir()
    line = refused_alike(capsys, str(tmp_path))
    assert line.startswith("[session] secret is not set for env 'prod'")
    assert run(capsys, "config", str(tmp_path), "--env", "local")[0] == 0


def test_module_apps_refuse_app_layout_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.default.toml").write_text("[io.init]\nping_interval = 3\n")
    line = refused_alike(capsys, MODULE_APP, "--app-dir", str(tmp_path))
    assert line == (
        f"{tmp_path}/config/config.default.toml: [io.init] ping_interval = 3.0: [io.init] "
        "applies to apps in the sockd app layout; a MODULE:ATTR app passes these options "
        "to socketio.AsyncServer itself"
    )


def test_any_sticky_key_but_ip_implies_sticky(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "config", str(EGGAPP), "--sticky-key", "sid", "--no-sticky")
    assert code == 0, err
    assert json.loads(out)["cluster"]["sticky"] is True


def test_config_shows_the_effective_settings_without_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCKD_IO_REDIS_PASSWORD", "hunter2")
    monkeypatch.setenv("SOCKD_DEPLOY_ID", "42")
    code, out, err = run(capsys, "config", str(EGGAPP), "-w", "3", "--bind", "[::1]:7001")
    assert code == 0, err
    assert err == (
        "sockd: warning: unknown environment variable SOCKD_DEPLOY_ID ignored "
        "(no sockd setting has that name)\n"
    )
    shown = json.loads(out)
    assert (shown["app"], shown["env"]) == (str(EGGAPP), "prod")
    assert shown["cluster"]["workers"] == 3
    assert shown["cluster"]["bind"] == ["[::1]:7001"]
    assert shown["io"]["redis"]["password"] == "(set, not shown)"
    assert shown["session"]["secret"] == "(set, not shown)"
    assert "hunter2" not in out and "eggapp-test-secret" not in out


def test_dev_refuses_daemon(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "dev", str(EGGAPP), "--daemon")
    assert code == 2
    assert err == (
        "sockd: error: sockd dev runs in the foreground; sockd start --daemon runs in the "
        "background\n"
    )


def test_a_unix_bind_stands_for_trusted_proxies(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the processes the socket file's mode admits can connect to a Unix socket: its
    peers' PROXY or forwarded headers count without --trusted-proxy."""
    argv = ["--sticky-key", "forwarded", "--bind", "unix:/run/sockd-app/app.sock"]
    code, out, err = run(capsys, "config", str(EGGAPP), *argv)
    assert code == 0, err
    assert '"unix:/run/sockd-app/app.sock"' in out
