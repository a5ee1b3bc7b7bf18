"""The per-message work of a worker, made cheaper where python-socketio leaves room.

Each module replaces one costly step found by profiling the worker under the benchmark
(``python -m bench``); README.md ("What the worker does differently") gives each one's
before/after from the suite.
Session classes are adopted like the protocol fixes (see :mod:`sockd.worker.protocol`);
the manager mixin is part of sockd's client managers (:mod:`sockd.worker.bus.managers`).
"""

from __future__ import annotations

import socketio
from engineio.async_socket import AsyncSocket

from sockd.worker.hot_path.direct_read import DirectRead
from sockd.worker.hot_path.direct_write import DirectWrite
from sockd.worker.hot_path.lean_queue import LeanQueue
from sockd.worker.hot_path.packet_json import install_packet_json
from sockd.worker.hot_path.request_body import install_request_body

#: Session classes every new Engine.IO session adopts, in front of the protocol fixes.
SESSION_MIXINS: tuple[type[AsyncSocket], ...] = (DirectWrite,)
#: Session classes adopted behind the protocol fixes (they replace what the fixes wrap).
SESSION_BASES: tuple[type[AsyncSocket], ...] = (DirectRead,)


def install_hot_path(sio: socketio.AsyncServer) -> None:
    """Lighter per-session state (queues, each request's environ) and packet JSON."""
    sio.eio.create_queue = LeanQueue  # type: ignore[method-assign]
    install_request_body(sio.eio)
    install_packet_json(sio)
