"""Errors a user can cause and fix, reported as one line without a traceback."""


class UserError(Exception):
    """A mistake in flags, config or environment; the message names the fix."""

    exit_code = 2


class StartupError(UserError):
    """The cluster could not start (port in use, app that fails to boot)."""

    exit_code = 3
