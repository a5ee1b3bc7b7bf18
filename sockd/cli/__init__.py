"""The ``sockd`` command line: ``start``, ``dev`` and ``config`` build the settings and run the
master (:mod:`sockd.cli.app`); ``stop``, ``reload`` and ``status`` talk to a running one over
its control socket (:mod:`sockd.cli.control_commands`), and so does ``top``
(:mod:`sockd.cli.top`)."""

from sockd.cli.app import main

__all__ = ["main"]
