"""SIGUSR1: reopen the log file in the master and every worker (after logrotate moved it)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterable

from sockd.config.options import ClusterOptions
from sockd.logs import reopen_log_files
from sockd.supervisor.lifecycle.worker_state import Worker, WorkerState
from sockd.supervisor.system.daemonize import redirect_output

log = logging.getLogger("sockd.master")


def reopen_logs(options: ClusterOptions, workers: Iterable[Worker]) -> None:
    log_file = options.cluster.log_file
    if not log_file:
        log.info("received SIGUSR1: logging to stderr, no log file to reopen")
        return
    reopen_log_files()
    if options.cluster.daemon:
        redirect_output(log_file)  # where the workers' stray output goes too
    for worker in workers:
        if worker.state in (WorkerState.READY, WorkerState.DRAINING):
            worker.signal(signal.SIGUSR1)
    log.info("received SIGUSR1: reopened %s", log_file)
