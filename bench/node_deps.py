"""What the Node cluster baseline needs: node and npm from PATH, and its npm packages
(socket.io, @socket.io/cluster-adapter) installed from ``bench/node/package-lock.json``.

The benchmark installs the packages itself when they are missing or older than the
lockfile (``npm ci``, bounded in time); ``scripts/test.sh`` does the same for the smoke test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent / "node"
SERVER = NODE_DIR / "server.js"
_LOCKFILE = NODE_DIR / "package-lock.json"
#: npm ci writes this copy of the lockfile last: present and current means installed.
_INSTALLED = NODE_DIR / "node_modules" / ".package-lock.json"
INSTALL_TIMEOUT = 300.0


def node_binary() -> str | None:
    """The ``node`` on PATH, or None."""
    return shutil.which("node")


def _installed() -> bool:
    return _INSTALLED.exists() and _INSTALLED.stat().st_mtime >= _LOCKFILE.stat().st_mtime


def ensure_packages() -> str | None:
    """Install the baseline's packages if needed; None when ready, else why not (one line)."""
    if node_binary() is None:
        return "node is not on PATH (apt-get install -y nodejs npm)"
    if _installed():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not on PATH (apt-get install -y npm)"
    command = [npm, "ci", "--no-audit", "--no-fund", "--silent"]
    try:
        done = subprocess.run(
            command,
            cwd=NODE_DIR,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"npm ci in {NODE_DIR} took over {INSTALL_TIMEOUT:.0f}s"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"npm ci in {NODE_DIR} failed: {lines[-1] if lines else done.returncode}"
    return None
