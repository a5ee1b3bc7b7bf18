"""The per-message work of a worker, made cheaper where python-socketio leaves room.

Each module replaces one costly step found by profiling the worker under the benchmark
(``python -m bench``); README.md ("What the worker does differently") gives each one's
before/after from the suite. Like the protocol fixes, they are mixins and wrappers that
:mod:`sockd.worker.compat` installs; the manager mixin is part of sockd's client managers
(:mod:`sockd.worker.bus.managers`).
"""
