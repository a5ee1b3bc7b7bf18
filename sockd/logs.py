"""Log setup shared by the master and the workers: one line per event, to stderr."""

from __future__ import annotations

import enum
import logging
import sys


class LogLevel(enum.StrEnum):
    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


def configure_logging(level: str, role: str) -> None:
    """Send every log line to stderr, prefixed with the time, pid and ``role``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s [%(process)d] [{role}] %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if level == "trace" else level.upper())


def route_library_logs_to_root() -> None:
    """Drop the bare handlers python-socketio and python-engineio add to their loggers.

    They attach a ``StreamHandler`` of their own when the app does not configure
    logging, so every error would print twice: once bare, once through ours.
    """
    for name in ("engineio.server", "socketio.server"):
        logger = logging.getLogger(name)
        logger.handlers = [
            handler
            for handler in logger.handlers
            if type(handler) is not logging.StreamHandler or handler.formatter is not None
        ]
