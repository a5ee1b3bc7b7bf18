"""Every change sockd makes to python-engineio, python-socketio and uvicorn internals, in
the order they are composed: the one list (:data:`ENTRIES`), and the library versions it
is tested with (:data:`TESTED`, which pyproject.toml's ranges repeat exactly).

Order: for each library class, an entry earlier in the list is in front of a later one
(it sees a call first, and calls the later one through ``super()``); wrappers likewise.
Engine.IO entries come before and apart from Socket.IO ones, so they can be installed on an
Engine.IO server alone. The fixes themselves live in ``sockd/worker/protocol/`` (each states
the specification and the library's behaviour), ``sockd/worker/hot_path/`` (each quotes
its measured gain) and ``sockd/worker/hosting/``; :mod:`sockd.worker.compat.install`
installs the list, :mod:`sockd.worker.compat.guard` checks it before a worker starts.
"""

from __future__ import annotations

from sockd.worker.compat.entries.engineio import ENGINEIO
from sockd.worker.compat.entries.socketio import SOCKETIO
from sockd.worker.compat.entries.uvicorn import UVICORN
from sockd.worker.compat.model import Entry, Versions

#: The releases each library is tested with, lowest and newest (scripts/test.sh runs both).
TESTED = {
    "python-socketio": Versions("5.16.1", "5.18.1"),
    "python-engineio": Versions("4.11.0", "4.15.1"),
    "uvicorn": Versions("0.52.1", "0.54.0"),
}

#: Engine.IO's entries first, apart from Socket.IO's, so an Engine.IO server alone can have them.
ENTRIES: tuple[Entry, ...] = ENGINEIO + SOCKETIO + UVICORN
