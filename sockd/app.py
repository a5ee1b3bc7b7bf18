"""The public names of the app model, for apps in the sockd app layout.

An app directory holds ``app/io/controller/*.py``, ``app/io/middleware/*.py``,
``app/router.py`` and ``config/*.toml``; the worker builds a python-socketio
server from them (``sockd.worker.app_model.application.build_application``).
"""

from sockd.worker.app_model.context import Context, Request, SocketHandle
from sockd.worker.app_model.controller import Controller
from sockd.worker.app_model.errors import ConnectionRejected

__all__ = ["ConnectionRejected", "Context", "Controller", "Request", "SocketHandle"]
