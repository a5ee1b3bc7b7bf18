"""sockd: run a python-socketio app on many worker processes behind one port."""

__version__ = "0.1.0"
