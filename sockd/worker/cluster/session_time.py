"""Each Engine.IO session notes when it started: the handshake time a socket's record
reports (``handshake["time"]``, as Node's ``socket.handshake.time``). python-engineio keeps
no such time; the session mixin is a compat entry (sockd/worker/compat/entries/)."""

from __future__ import annotations

import time

from sockd.worker.compat.sessions import StartedSession


class SessionTime(StartedSession):
    started_at: float | None = None

    def session_started(self) -> None:
        self.started_at = time.time()
        super().session_started()
