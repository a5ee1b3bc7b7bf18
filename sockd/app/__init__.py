"""egg-socket.io's programming model for apps in the sockd app layout.

An app directory holds ``app/io/controller/*.py``, ``app/io/middleware/*.py``,
``app/router.py`` and ``config/*.toml``; the worker builds a python-socketio
server from them (``sockd.app.application.build_application``).
"""

from sockd.app.context import Context, Request, SocketHandle
from sockd.app.controller import Controller
from sockd.app.errors import ConnectionRejected

__all__ = ["ConnectionRejected", "Context", "Controller", "Request", "SocketHandle"]
