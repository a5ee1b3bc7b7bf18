"""Entry point of a worker process, started by the master as ``python -m sockd.worker``.

Its options (settings with their secrets) arrive as the first frame of the control
channel, not on argv, where ``ps`` and ``/proc/PID/cmdline`` would show them to anyone.
"""

from __future__ import annotations

import argparse
import signal
import sys

import uvloop

from sockd.config.options import WorkerOptions
from sockd.logs import configure_logging
from sockd.wire.frames import FrameError, Kind, receive_first_frame
from sockd.worker.hosting.worker import EXIT_STARTUP_FAILED, Worker

#: The master writes the options as soon as the worker exists; this bounds a lost master.
OPTIONS_TIMEOUT = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(prog="sockd.worker", description=__doc__)
    parser.add_argument("--slot", type=int, required=True)
    parser.add_argument("--handoff-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args()
    # The master coordinates stops; a terminal's Ctrl-C reaches the whole
    # process group, and the worker waits for the master's drain order instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        kind, payload = receive_first_frame(args.control_fd, OPTIONS_TIMEOUT)
        if kind is not Kind.OPTIONS:
            raise FrameError(f"expected the options, got a {kind.name} frame")
    except (FrameError, OSError) as exc:
        print(f"sockd: worker {args.slot}: no options from the master: {exc}", file=sys.stderr)
        return EXIT_STARTUP_FAILED
    options = WorkerOptions.from_wire(payload)
    cluster = options.cluster
    role = f"worker {args.slot}"
    configure_logging(cluster.log_level, role, cluster.log_format, cluster.log_file)
    worker = Worker(args.slot, args.handoff_fd, args.control_fd, options)
    return uvloop.run(worker.run())


if __name__ == "__main__":
    sys.exit(main())
