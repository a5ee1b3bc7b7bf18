"""``sockd status|stop|reload`` run by a user who may not look where a sockd lives: one
``sockd: error:`` line naming the permission problem, never a traceback.

The commands run as ``nobody`` in a child of the test process (forked once sockd's CLI is
imported, then its uid dropped), so no interpreter needs to be readable by that user. The
sockd they look for is a real one, started by root with its runtime directory in a
temporary directory. Needs root (to drop to another uid); skipped otherwise.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import sockd.cli.control_commands  # noqa: F401  (imported before the uid is dropped)
from sockd.cli import main
from tests.harness import SockdLauncher

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run as another user")


def _as_nobody(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``sockd ARGS`` as ``nobody`` with environment ``env``: its exit code and output."""
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            os.dup2(write, 1)
            os.dup2(write, 2)
            # pytest's capture replaced sys.stdout and sys.stderr: write to the pipe instead.
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.environ.clear()
            os.environ.update(env)
            sys.argv = ["sockd", *args]
            try:
                main()
                code = 0
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write)
    output = b""
    while chunk := os.read(read, 65536):
        output += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode()


@pytest.fixture
def runtime() -> Iterator[Path]:
    """A directory every user may enter (pytest's own temporary ones are root's only)."""
    directory = Path(tempfile.mkdtemp(prefix="sockd-cli-"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.timeout(60)
def test_a_user_who_may_not_look_gets_one_line(sockd: SockdLauncher, runtime: Path) -> None:
    proc = sockd(prefix=("env", f"XDG_RUNTIME_DIR={runtime}"))  # its directory: 0700, root's
    title = f"sockd-{proc.port}"
    layouts = {
        "the runtime directory": {"XDG_RUNTIME_DIR": str(runtime)},
        "systemd's runtime directory": {"RUNTIME_DIRECTORY": str(runtime / "sockd")},
        "a directory it may not enter": {"XDG_RUNTIME_DIR": "/root"},
    }
    for where, env in layouts.items():
        for args in (["status"], ["status", "--title", title], ["stop"], ["reload"]):
            code, output = _as_nobody(args, env)
            lines = output.splitlines()
            print(f"{where}: sockd {' '.join(args)} -> {code}: {output.strip()}")
            assert "Traceback" not in output
            assert len(lines) == 1 and lines[0].startswith("sockd: error: "), output
            assert "permission denied" in lines[0]
            assert code != 0
    # The directory readable, the control socket not (the master's own mode, 0600).
    (runtime / "sockd").chmod(0o755)
    (runtime / "sockd" / f"{title}.pid").chmod(0o644)
    code, output = _as_nobody(["status"], {"XDG_RUNTIME_DIR": str(runtime)})
    print(f"a readable pid file: {output.strip()}")
    assert output.splitlines() == [
        f"sockd: error: control socket {runtime}/sockd/{title}.sock: [Errno 13] Permission denied"
    ]
    assert proc.tracked() and code != 0
