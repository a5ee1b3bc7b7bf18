"""egg-socket.io's programming model, built into a python-socketio server from an app
directory (``app/io/controller``, ``app/io/middleware``, ``app/router.py``, ``config/``).
Apps import its public names from :mod:`sockd.app`."""
