"""Engine.IO v4 / Socket.IO v5 conformance fixes for python-engineio and python-socketio.

Each module fixes one gap (or a tightly related group) and says what the specification
requires and what the library does. The fixes are classes: server-level ones are mixins of
``engineio.AsyncServer`` or ``socketio.AsyncServer``, session-level ones mixins of
``engineio.async_socket.AsyncSocket``. None installs itself: :mod:`sockd.worker.compat`
composes them, in the order of its one list, with the libraries' classes.
"""
