"""``--bind unix:PATH``: a listening Unix socket for a proxy on the same host.

The socket file is created with mode 0660 (owner and group may connect: put the proxy's
user in sockd's group), with no moment when it is wider. A file left at PATH by a master
that was killed is removed, but only when nothing listens on it: a live server's socket
is never taken over. The master removes the file at its stop (``listeners.py``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat

from sockd.errors import StartupError

#: Who may connect: the owner and the group (a proxy in sockd's group).
SOCKET_MODE = 0o660
#: How long probing a socket file for a live server may take.
PROBE_TIMEOUT = 1.0


def bind_unix(path: str, backlog: int) -> socket.socket:
    """Listen on a Unix socket at ``path`` (removing a stale one first)."""
    where = f"unix:{path}"
    _remove_stale(path, where)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o777 & ~SOCKET_MODE)  # born with its final mode
    try:
        sock.bind(path)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise StartupError(_explain(where, exc)) from None
    finally:
        os.umask(previous)
    os.chmod(path, SOCKET_MODE)
    return sock


def _remove_stale(path: str, where: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StartupError(f"cannot listen on {where}: {exc.strerror}") from None
    if not stat.S_ISSOCK(info.st_mode):
        raise StartupError(f"cannot listen on {where}: the file exists and is not a socket")
    if _someone_listens(path):
        raise StartupError(
            f"cannot listen on {where}: a server already listens there (stop it, or pick "
            "another path)"
        )
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _someone_listens(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(PROBE_TIMEOUT)
        try:
            probe.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except TimeoutError:
            return True  # a backlog so full that it cannot answer: still a live server
        except OSError as exc:
            raise StartupError(f"cannot listen on unix:{path}: {exc.strerror}") from None
        return True


def _explain(where: str, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return f"cannot listen on {where}: its directory does not exist"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the path is in use"
    return f"cannot listen on {where}: {exc.strerror or exc}"
