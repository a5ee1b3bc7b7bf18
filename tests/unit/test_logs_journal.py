"""Text log lines carry syslog priorities when stderr is the journal stream."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from sockd.logs import JournalFormatter, stderr_is_journal


def record(level: int, message: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("sockd.master", level, __file__, 1, message, None, exc_info)


def test_each_line_starts_with_its_priority_a_traceback_included() -> None:
    formatter = JournalFormatter("%(levelname)s %(message)s")
    assert formatter.format(record(logging.INFO, "ready")) == "<6>INFO ready"
    assert formatter.format(record(logging.WARNING, "slow")) == "<4>WARNING slow"
    assert formatter.format(record(logging.CRITICAL, "gone")) == "<2>CRITICAL gone"
    assert formatter.format(record(logging.DEBUG, "x")) == "<7>DEBUG x"
    lines = formatter.format(record(logging.ERROR, "failed", exc=True)).split("\n")
    assert len(lines) > 2 and all(line.startswith("<3>") for line in lines)
    assert lines[-1] == "<3>ValueError: boom"


def test_the_journal_is_stderr_only_when_the_variable_names_that_very_stream(
    tmp_path: Path,
) -> None:
    with open(tmp_path / "stream", "wb") as stream, open(tmp_path / "other", "wb") as other:
        status = os.fstat(stream.fileno())
        named = {"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"}
        assert stderr_is_journal(named, stream.fileno())
        assert not stderr_is_journal(named, other.fileno()), "stderr redirected elsewhere"
        assert not stderr_is_journal({}, stream.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": "garbage"}, stream.fileno())
