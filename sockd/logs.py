"""Log setup shared by the master and the workers: one line per event, to stderr."""

from __future__ import annotations

import enum
import logging
import sys


class LogLevel(str, enum.Enum):
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
