"""An app that cannot be imported: sockd must say so in one line, without a traceback."""

import does_not_exist_xyz  # noqa: F401  (the failure is the point)

sio = None
