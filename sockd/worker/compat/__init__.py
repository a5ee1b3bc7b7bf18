"""Every change sockd makes to python-engineio, python-socketio and uvicorn internals.

:mod:`.entries` is the one ordered list (target, why, the upstream change that would
remove it, tested versions); :mod:`.install` composes it onto the app's servers, for app
directories and ``MODULE:ATTR`` apps alike; :mod:`.guard` refuses library versions the
list does not fit, before a worker starts. The fixes themselves live where their
specification or measurement is stated (``protocol/``, ``hot_path/``, ``hosting/``) and
install nothing themselves.
"""
