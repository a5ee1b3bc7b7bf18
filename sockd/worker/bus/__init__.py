"""The cluster bus: python-socketio client managers that carry rooms, broadcasts and remote
operations to the other workers, over the master or over Redis."""
