"""Log setup shared by the master and the workers: one line per event, to stderr or a file.

Lines are text or JSON objects (``--log-format json``). With ``--log-file`` every process
appends to the same file; SIGUSR1 makes each reopen it, so logrotate can move it away.
When stderr is systemd's journal stream (``JOURNAL_STREAM`` names it), text lines start
with their syslog priority (``<3>`` for an error, sd-daemon(3)'s prefixes), so
``journalctl -p err`` shows sockd's errors; JSON lines stay as they are.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from typing import Any

#: Record attributes that events about one worker carry (``extra=``), shown in JSON lines.
EVENT_FIELDS = ("slot", "worker_pid", "event")


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, pid, role, message, and the event's fields."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self._role = role

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
            + f".{int(record.msecs):03d}",
            "level": record.levelname.lower(),
            "pid": record.process,
            "role": self._role,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EVENT_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


#: sd-daemon(3)'s prefixes (syslog priorities) by logging level, highest level first.
_PRIORITIES = (
    (logging.CRITICAL, "<2>"),
    (logging.ERROR, "<3>"),
    (logging.WARNING, "<4>"),
    (logging.INFO, "<6>"),
)
_DEBUG_PRIORITY = "<7>"


class JournalFormatter(logging.Formatter):
    """Text lines with their syslog priority first, every line of a multi-line record
    (a traceback) included, so the journal files all of it at the record's level."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = next((p for level, p in _PRIORITIES if record.levelno >= level), _DEBUG_PRIORITY)
        return "\n".join(prefix + line for line in super().format(record).split("\n"))


def stderr_is_journal(environ: Mapping[str, str], stderr_fd: int = 2) -> bool:
    """Whether stderr is the journal stream systemd connected (``JOURNAL_STREAM`` is
    ``DEVICE:INODE`` of it; a child whose stderr was redirected still inherits the variable)."""
    device, _, inode = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        status = os.fstat(stderr_fd)
        return (status.st_dev, status.st_ino) == (int(device), int(inode))
    except (OSError, ValueError):
        return False


class ReopenableFileHandler(logging.FileHandler):
    """A log file that reopens itself at its next line after :func:`reopen_log_files`.

    The signal handler only raises a flag: reopening from inside a signal handler could
    close the stream under a write of the same thread.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.reopen_requested = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.reopen_requested:
            self.reopen_requested = False
            self.acquire()
            try:
                self.close()
                self.stream = self._open()
            finally:
                self.release()
        super().emit(record)


def configure_logging(
    level: str, role: str, fmt: str = "text", log_file: str | None = None
) -> None:
    """Send every log line to ``log_file`` (default: stderr), naming the pid and ``role``.

    SIGUSR1 reopens the file from then on (the master overrides this to tell its workers).
    """
    handler: logging.Handler
    if log_file:
        handler = ReopenableFileHandler(log_file)
        signal.signal(signal.SIGUSR1, lambda signum, frame: reopen_log_files())
    else:
        handler = logging.StreamHandler(sys.stderr)
    text = f"%(asctime)s [%(process)d] [{role}] %(levelname)s %(message)s"
    if fmt == "json":
        handler.setFormatter(JSONFormatter(role))
    elif not log_file and stderr_is_journal(os.environ):
        handler.setFormatter(JournalFormatter(text))
    else:
        handler.setFormatter(logging.Formatter(text))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    set_log_level(level)


def set_log_level(level: str) -> None:
    logging.getLogger().setLevel(logging.DEBUG if level == "trace" else level.upper())


def reopen_log_files() -> None:
    """Have every log file reopen before its next line (after logrotate moved it)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, ReopenableFileHandler):
            handler.reopen_requested = True


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
