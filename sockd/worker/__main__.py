"""Entry point of a worker process, started by the master as ``python -m sockd.worker``."""

from __future__ import annotations

import argparse
import signal
import sys

import uvloop

from sockd.config.options import WorkerOptions
from sockd.logs import configure_logging
from sockd.worker.hosting.worker import Worker


def main() -> int:
    parser = argparse.ArgumentParser(prog="sockd.worker", description=__doc__)
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--handoff-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--options", required=True)
    args = parser.parse_args()
    options = WorkerOptions.from_json(args.options)
    # The master coordinates stops; a terminal's Ctrl-C reaches the whole
    # process group, and the worker waits for the master's drain order instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(
        options.log_level, f"worker {args.slot}", options.log_format, options.log_file
    )
    worker = Worker(args.slot, args.handoff_fd, args.control_fd, options)
    return uvloop.run(worker.run())


if __name__ == "__main__":
    sys.exit(main())
